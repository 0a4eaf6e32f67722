// Indexes an earlier schema had and no query uses: every write paid for them. Dropped where they exist.
DROP INDEX entity_source IF EXISTS;
DROP INDEX host_source_generation IF EXISTS;
DROP INDEX runs_on_host IF EXISTS;
