package dev.modelgate.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ConfigValidationTest {

    @TempDir
    Path folder;

    private static List<String> problems(String yaml, Map<String, String> environment) {
        ConfigSource source = ConfigSource.parse("test.yaml", yaml, environment);
        try (PluginRegistry plugins = PluginRegistry.discover(null)) {
            Deployment.build(source, plugins, new MetricsRegistry(), CommandLine.serving(null, null, null, null),
                    Clock.systemUTC()).close();
            return List.of();
        } catch (Deployment.InvalidConfigException e) {
            return e.problems();
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }

    private static List<String> problems(String yaml) {
        return problems(yaml, Map.of());
    }

    private static final String VALID = """
            backends:
              main:
                type: echo
            routes:
              - model: m
                backend: main
            """;

    @Test
    void aValidConfigurationHasNoProblems() {
        assertEquals(List.of(), problems(VALID));
    }

    @Test
    void anUnknownBackendIsNamedByItsKeyPath() {
        List<String> problems = problems(VALID + """
                  - model: other
                    backend: tf-main
                """);

        assertEquals(List.of("routes[1].backend: unknown backend 'tf-main'; known backends: main"), problems);
    }

    @Test
    void theOpenAiFrontsRouteMustBeRoutedWhenGivenAndItsPrefixMustNotMeetTheTfServingOne() {
        assertEquals(List.of("fronts.openai.route: no route serves model 'llm'; routed models: m"),
                problems("fronts:\n  openai:\n    route: llm\n" + VALID));
        assertEquals(List.of("fronts.openai.prefix: must not overlap fronts.tf-serving.prefix '/llm'"),
                problems("fronts:\n  tf-serving:\n    prefix: /llm\n  openai:\n    prefix: /llm/v1\n" + VALID));
        assertEquals(List.of(), problems("fronts:\n  openai:\n    route: m\n" + VALID));
    }

    @Test
    void anUnknownPluginTypeListsTheKnownOnes() {
        List<String> problems = problems("""
                middlewares:
                  - type: rate-limt
                """ + VALID);

        assertEquals(1, problems.size(), problems.toString());
        assertTrue(problems.getFirst().startsWith("middlewares[0].type: unknown middleware type 'rate-limt'; "
                + "known types: "), problems.getFirst());
        assertTrue(problems.getFirst().contains("stamp"), problems.getFirst());
    }

    @Test
    void everyProblemIsReportedAtOnce() {
        List<String> problems = problems("""
                server:
                  port: 70000
                  shutdown-timeout: soon
                  max-body-size: -1
                backends:
                  main:
                    type: nope
                routes:
                  - model: "bad name!"
                    backend: main
                    version: 2
                """);

        assertEquals(List.of(
                "server.port: must be between 0 and 65535, but was 70000",
                "server.max-body-size: must be a positive size such as 65536, 512KB or 10MB, but was '-1'",
                "server.shutdown-timeout: must be a positive duration such as 250ms, 5s, 2m or 1h, but was 'soon'",
                "backends.main.type: unknown backend type 'nope'; known types: echo, pushing, streaming",
                "routes[0].model: model names are 1 to 128 letters, digits, '.', '_' and '-'",
                "routes[0].version: API versions are written v1, v2, ..., but was '2'"), problems);
    }

    @Test
    void aMisspeltKeyIsAnErrorNotASilentDefault() {
        List<String> problems = problems("""
                server:
                  prot: 8081
                """ + VALID);

        assertEquals(1, problems.size(), problems.toString());
        assertTrue(problems.getFirst().startsWith("server.prot: unknown key; known keys here: "),
                problems.getFirst());
    }

    @Test
    void aPluginsOwnUnknownKeyIsReportedUnderItsNode() {
        List<String> problems = problems("""
                backends:
                  main:
                    type: echo
                    colour: blue
                routes:
                  - model: m
                    backend: main
                """);

        assertEquals(1, problems.size(), problems.toString());
        assertTrue(problems.getFirst().startsWith("backends.main.colour: unknown key"), problems.getFirst());
    }

    @Test
    void environmentVariablesAreSubstitutedWithDefaults() {
        assertEquals(List.of(), problems("""
                server:
                  port: ${PORT:-8081}
                backends:
                  main:
                    type: ${BACKEND_TYPE}
                routes:
                  - model: m
                    backend: main
                """, Map.of("BACKEND_TYPE", "echo")));
    }

    @Test
    void anUnsetVariableWithoutDefaultIsNamedWithTheKeyUsingIt() {
        List<String> problems = problems("""
                backends:
                  main:
                    type: echo
                    tag: ${MODELGATE_MISSING}
                routes:
                  - model: m
                    backend: main
                """);

        assertEquals(List.of("backends.main.tag: environment variable MODELGATE_MISSING is not set"), problems);
    }

    @Test
    void aVariableCannotInjectStructure() {
        List<String> problems = problems(VALID.replace("model: m", "model: ${NAME}"),
                Map.of("NAME", "m\n    backend: evil"));

        assertEquals(List.of("routes[0].model: model names are 1 to 128 letters, digits, '.', '_' and '-'"),
                problems, "the variable's text stays one value");
    }

    @Test
    void aYamlSyntaxErrorNamesTheFileLineAndColumnInOneLine() {
        List<String> problems = problems("server:\n  port: [1\nroutes: x\n");

        assertEquals(List.of("test.yaml: not valid YAML at line 3, column 7: expected ',' or ']', but got : "
                + "(while parsing a flow sequence at line 2, column 9)"), problems);
    }

    @Test
    void anUnsetVariableIsReportedOnceWithEveryKeyUsingItAndNothingElseAboutThem() {
        List<String> problems = problems("""
                backends:
                  a:
                    type: echo
                  b:
                    type: echo
                routes:
                  - model: ${MODELGATE_MODEL}
                    backend: ${MODELGATE_MISSING}
                  - model: b
                    backend: ${MODELGATE_MISSING}
                """, Map.of("MODELGATE_MODEL", "a"));

        assertEquals(List.of("routes[0].backend: environment variable MODELGATE_MISSING is not set (also used by "
                + "routes[1].backend)"), problems);
    }

    @Test
    void anUnknownKeyHintListsEveryKeyKnownThere() {
        List<String> problems = problems(VALID.replace("backend: main", "backend: main\n    colour: red"));

        assertEquals(List.of("routes[0].colour: unknown key; known keys here: accepts-non-finite, backend, fronts, "
                + "idempotent, middlewares, model, timeout, version, versions"), problems);
    }

    @Test
    void aRouteTimeoutMustOutlastItsBackendsCallTimeout() {
        List<String> problems = problems("""
                backends:
                  slow:
                    type: echo
                    call-timeout: 2s
                routes:
                  - model: m
                    backend: slow
                    timeout: 1500ms
                  - model: n
                    backend: slow
                    timeout: 3s
                """);

        assertEquals(List.of("routes[0].timeout: must be longer than backend 'slow''s call timeout of 2000ms "
                + "(connect-timeout + request-timeout), but was 1500ms"), problems);
    }

    @Test
    void anExplicitNullForARequiredKeyIsReportedAsMissing() {
        List<String> problems = problems("""
                middlewares:
                  - type: ~
                backends:
                  main:
                    type: echo
                routes:
                  - model: m
                    backend:
                """);

        assertEquals(List.of("middlewares[0].type: is required", "routes[0].backend: is required"), problems);
    }

    @Test
    void valuesTooLargeToMeanAnythingAreProblemsNotOverflows() {
        List<String> problems = problems("""
                server:
                  max-body-size: 9000000000GB
                  idle-timeout: 99999999999999999999s
                  port: 99999999999999999999999
                """ + VALID.replace("backend: main", "backend: main\n    timeout: 3000000h"));

        assertEquals(List.of(
                "server.port: must be between 0 and 65535, but was 99999999999999999999999",
                "server.max-body-size: must be at most 1024GB, but was '9000000000GB'",
                "server.idle-timeout: must be at most 365 days, but was '99999999999999999999s'",
                "routes[0].timeout: must be at most 365 days, but was '3000000h'"), problems);
    }

    @Test
    void aKeyGivenTwiceIsAnError() {
        List<String> problems = problems(VALID + VALID.substring(VALID.indexOf("routes:")));

        assertEquals(1, problems.size(), problems.toString());
        assertTrue(problems.getFirst().startsWith("test.yaml: not valid YAML at line 7, column 7: Duplicate field "
                + "'routes'"), problems.getFirst());
    }

    @Test
    void aPluginWithoutTypeIsReportedOnce() {
        List<String> problems = problems("""
                middlewares:
                  - name: anonymous
                """ + VALID);

        assertEquals(List.of("middlewares[0].type: is required"), problems);
    }

    @Test
    void aModelRoutedTwiceForOneVersionIsAProblem() {
        List<String> problems = problems(VALID + """
                  - model: m
                    backend: main
                """);

        assertEquals(List.of("routes[1]: model 'm' version v1 is routed twice"), problems);
    }

    @Test
    void validateCommandExitsZeroWhenValidAndPrintsEachProblemOtherwise() throws Exception {
        Path valid = Files.writeString(folder.resolve("valid.yaml"), VALID);
        Path invalid = Files.writeString(folder.resolve("invalid.yaml"), VALID.replace("backend: main",
                "backend: tf-main"));

        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int validExit = Main.run(new String[] {"validate", valid.toString()}, print(out), print(err));
        int invalidExit = Main.run(new String[] {"validate", invalid.toString()}, print(out), print(err));

        assertEquals(0, validExit);
        assertEquals(1, invalidExit);
        assertEquals("routes[0].backend: unknown backend 'tf-main'; known backends: main\n",
                err.toString(StandardCharsets.UTF_8));
    }

    @Test
    void aBadCommandLineExitsTwoWithUsage() {
        ByteArrayOutputStream err = new ByteArrayOutputStream();

        assertEquals(2, Main.run(new String[] {"--port", "http"}, print(new ByteArrayOutputStream()), print(err)));
        assertTrue(err.toString(StandardCharsets.UTF_8).contains("--port must be a port number"));
        assertEquals(2, Main.run(new String[] {"frobnicate"}, print(new ByteArrayOutputStream()), print(err)));
    }

    @Test
    void aCommandAPluginAddsGetsItsArgumentsAndTheLoadedConfiguration() throws Exception {
        Path config = Files.writeString(folder.resolve("gateway.yaml"), "server:\n  port: ${PORT:-8123}\n" + VALID);
        ByteArrayOutputStream out = new ByteArrayOutputStream();

        int exit = Main.run(new String[] {"config-value", "--config", config.toString(), "port"}, print(out),
                print(new ByteArrayOutputStream()));

        assertEquals(0, exit);
        assertEquals("8123\n", out.toString(StandardCharsets.UTF_8));
    }

    private static PrintStream print(ByteArrayOutputStream buffer) {
        return new PrintStream(buffer, true, StandardCharsets.UTF_8);
    }
}
