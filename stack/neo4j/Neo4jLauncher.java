import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.CountDownLatch;

import org.neo4j.configuration.GraphDatabaseSettings;
import org.neo4j.configuration.connectors.BoltConnector;
import org.neo4j.configuration.connectors.HttpConnector;
import org.neo4j.configuration.helpers.SocketAddress;
import org.neo4j.dbms.api.DatabaseManagementService;
import org.neo4j.dbms.api.DatabaseManagementServiceBuilder;
import org.neo4j.io.ByteUnit;

/**
 * Runs an embedded Neo4j 5 Community with only the Bolt connector, for `faultline dev` and the tests.
 *
 * Usage: java -cp CLASSPATH Neo4jLauncher.java HOME_DIR HOST PORT PAGECACHE_MIB
 *
 * Prints "faultline-neo4j ready bolt://HOST:PORT" once the default database answers, and writes
 * HOME_DIR/neo4j.pid. SIGTERM shuts the database down cleanly (the shutdown hook), so the store is
 * never left needing recovery.
 */
public final class Neo4jLauncher {
  public static void main(String[] args) throws Exception {
    if (args.length != 4) {
      System.err.println("usage: Neo4jLauncher HOME_DIR HOST PORT PAGECACHE_MIB");
      System.exit(2);
    }
    Path home = Path.of(args[0]).toAbsolutePath();
    String host = args[1];
    int port = Integer.parseInt(args[2]);
    long pageCacheMib = Long.parseLong(args[3]);
    Files.createDirectories(home);

    DatabaseManagementService dbms = new DatabaseManagementServiceBuilder(home)
        .setConfig(BoltConnector.enabled, true)
        .setConfig(BoltConnector.listen_address, new SocketAddress(host, port))
        .setConfig(BoltConnector.encryption_level, BoltConnector.EncryptionLevel.DISABLED)
        .setConfig(HttpConnector.enabled, false)
        .setConfig(GraphDatabaseSettings.auth_enabled, false)
        .setConfig(GraphDatabaseSettings.pagecache_memory, ByteUnit.mebiBytes(2048))
        .build();

    CountDownLatch stopped = new CountDownLatch(1);
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      dbms.shutdown();
      stopped.countDown();
    }, "faultline-neo4j-shutdown"));

    // Opening a transaction proves the default database is online, not merely the connector bound.
    try (var tx = dbms.database(GraphDatabaseSettings.DEFAULT_DATABASE_NAME).beginTx()) {
      tx.execute("RETURN 1").close();
      tx.commit();
    }
    Files.writeString(home.resolve("neo4j.pid"), Long.toString(ProcessHandle.current().pid()));
    System.out.println("faultline-neo4j ready bolt://" + host + ":" + port);
    System.out.flush();
    stopped.await();
  }
}
