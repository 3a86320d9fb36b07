package dev.modelgate.plugins.ratelimit;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * One {@link RedisServer} for a test class, registered as a static {@code @RegisterExtension} field: started before
 * the class's tests, closed after them, and before each test started again if a test stopped it, then emptied.
 */
final class RedisServerExtension implements BeforeAllCallback, BeforeEachCallback, AfterAllCallback {

    private RedisServer server;

    /** The running server (between the class's first and last test). */
    RedisServer server() {
        return server;
    }

    @Override
    public void beforeAll(ExtensionContext context) throws Exception {
        server = RedisServer.start();
    }

    @Override
    public void beforeEach(ExtensionContext context) throws Exception {
        if (server.command("PING") == null) {
            server.startAgain();
        }
        assertEquals("+OK", server.command("FLUSHALL"));
    }

    @Override
    public void afterAll(ExtensionContext context) throws Exception {
        server.close();
    }
}
