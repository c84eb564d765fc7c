// DynamoDB Local on 127.0.0.1 only: it has no option for its listening address, and its Jetty
// server binds every interface. This builds the server from the usual command line (the same
// options as `java -jar DynamoDBLocal.jar`), points its connectors at loopback, and starts it.
// Compiled beside the jar by `make dynamodb-local` (tools/install_dynamodb_local.py).

import com.amazonaws.services.dynamodbv2.local.main.ServerRunner;
import com.amazonaws.services.dynamodbv2.local.server.DynamoDBProxyServer;
import java.lang.reflect.Field;
import org.eclipse.jetty.server.Connector;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;

public final class LoopbackDynamoDBLocal {
    private static final String HOST = "127.0.0.1";

    public static void main(String[] args) throws Exception {
        DynamoDBProxyServer proxy = ServerRunner.createServerFromCommandLineArgs(args);
        Field field = DynamoDBProxyServer.class.getDeclaredField("server");
        field.setAccessible(true);
        Server server = (Server) field.get(proxy);
        for (Connector connector : server.getConnectors()) {
            ((ServerConnector) connector).setHost(HOST);
        }
        proxy.start();
        proxy.join();
    }
}
