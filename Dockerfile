# faultline in a container: `docker compose up` runs it beside Neo4j and NATS (see docker-compose.yml).
FROM node:24-bookworm-slim

WORKDIR /opt/faultline
ENV NODE_ENV=production
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund --loglevel=error
COPY . .
RUN ln -s /opt/faultline/bin/faultline.js /usr/local/bin/faultline

USER node
EXPOSE 4000
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:4000/healthz').then(r => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
ENTRYPOINT ["faultline"]
CMD ["serve"]
