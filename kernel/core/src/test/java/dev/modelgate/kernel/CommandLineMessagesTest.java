package dev.modelgate.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.modelgate.kernel.testing.RunningGateway;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** What a newcomer reads first: help, the messages of validate, and the API's answers to garbled requests. */
class CommandLineMessagesTest {

    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path folder;

    private record Run(int exit, String out, String err) {
    }

    private static Run run(String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int exit = Main.run(args, new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8));
        return new Run(exit, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    @ParameterizedTest
    @ValueSource(strings = {"help", "--help", "-h", "validate --help"})
    void helpPrintsTheUsageAndExitsZero(String args) {
        Run run = run(args.split(" "));

        assertEquals(0, run.exit(), run.err());
        assertEquals(CommandLine.usage(), run.out());
        assertEquals("", run.err());
    }

    @Test
    void validateNamesTheFileOfAYamlSyntaxError() throws Exception {
        Path file = Files.writeString(folder.resolve("broken.yaml"), "routes: [\n");

        Run run = run("validate", file.toString());

        assertEquals(1, run.exit());
        assertTrue(run.err().startsWith(file + ": not valid YAML at line 2, column 1: "), run.err());
        assertEquals(1, run.err().lines().count(), run.err());
    }

    @Test
    void aMissingOrEmptyConfigurationNameIsNotCalledADirectory() throws Exception {
        Run missing = run("validate", folder.resolve("missing.yaml").toString());
        Run empty = run("validate", "--config", "");
        Run aFolder = run("validate", folder.toString());

        assertEquals("modelgate: no such file: " + folder.resolve("missing.yaml") + "\n", missing.err());
        assertEquals("modelgate: the configuration file's name is empty\n", empty.err());
        assertEquals("modelgate: " + folder + " is a folder, not a configuration file\n", aFolder.err());
        for (Run run : new Run[] {missing, empty, aFolder}) {
            assertEquals(1, run.exit());
            assertFalse(run.err().contains("Is a directory"), run.err());
        }
    }

    @Test
    void malformedJsonSaysWhereWithoutTheParsersOptionNames() throws Exception {
        try (RunningGateway gateway = RunningGateway.start(RunningGateway.ECHO_ROUTE)) {
            HttpResponse<String> truncated = gateway.post("/v1/models/m:predict", "application/json",
                    "{\"instances\":\n[[1,2]]");
            HttpResponse<String> leadingZero = gateway.post("/v1/models/m:predict", "application/json",
                    "{\"instances\":[[01]]}");

            assertEquals("malformed JSON body: Unexpected end-of-input: expected close marker for Object (start "
                    + "marker at line 1, column 1) at line 2, column 8", message(truncated));
            assertEquals("malformed JSON body: Invalid numeric value: Leading zeroes not allowed at line 1, column 17",
                    message(leadingZero));
        }
    }

    @Test
    void aVeryLongUnknownModelNameIsShortenedWhenEchoed() throws Exception {
        String name = "m".repeat(5000);
        try (RunningGateway gateway = RunningGateway.start(RunningGateway.ECHO_ROUTE)) {
            HttpResponse<String> response = gateway.get("/v1/models/" + name);

            assertEquals(404, response.statusCode());
            assertEquals("unknown model: '" + "m".repeat(128) + "...' (5000 characters)", message(response));
        }
    }

    private static String message(HttpResponse<String> response) throws Exception {
        return JSON.readTree(response.body()).get("message").asText();
    }
}
