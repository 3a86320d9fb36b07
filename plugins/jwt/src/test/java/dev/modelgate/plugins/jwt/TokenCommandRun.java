package dev.modelgate.plugins.jwt;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.modelgate.kernel.ConfigSource;
import dev.modelgate.spi.CommandProvider;
import dev.modelgate.spi.ConfigNode;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** Runs the {@code token} command as the kernel does: on a loaded configuration, capturing what it prints. */
final class TokenCommandRun {

    record Result(int exitCode, String out, String err) {

        /** The token printed, after checking the command succeeded and printed one line and nothing else. */
        String token() {
            assertEquals(0, exitCode, err);
            assertEquals("", err);
            assertEquals(1, out.lines().count(), out);
            return out.strip();
        }
    }

    private record Invocation(List<String> args, ConfigNode config, PrintStream out, PrintStream err, Clock clock)
            implements CommandProvider.Invocation {
    }

    private TokenCommandRun() {
    }

    static Result run(String yaml, Map<String, String> environment, String... args) {
        ConfigSource source = ConfigSource.parse("test.yaml", yaml, environment);
        assertEquals(List.of(), source.problems());
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int exitCode = new TokenCommandProvider().run(new Invocation(List.of(args),
                ConfigNode.root(source.tree(), new ArrayList<>()), new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8), Clock.systemUTC()));
        return new Result(exitCode, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }
}
