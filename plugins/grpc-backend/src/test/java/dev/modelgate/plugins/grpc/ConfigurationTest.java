package dev.modelgate.plugins.grpc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.modelgate.kernel.Deployment;
import dev.modelgate.kernel.testing.RunningGateway;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Each bad value of a grpc backend is reported once, by its exact key, before anything connects. */
class ConfigurationTest {

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "url: 'grpc://127.0.0.1:1'                    | backends.remote.protocol: is required",
        "protocol: triton; url: 'grpc://127.0.0.1:1' "
                + "| backends.remote.protocol: must be one of kserve-v2, model-service",
        "protocol: kserve-v2; url: 'http://127.0.0.1:1' "
                + "| backends.remote.url: must be an absolute grpc or grpcs URL, but was 'http://127.0.0.1:1'",
        "protocol: kserve-v2; url: 'grpc://127.0.0.1:1'; health-check: {path: /healthz} "
                + "| backends.remote.health-check.path: unknown key",
        "protocol: kserve-v2; url: 'grpc://127.0.0.1:1'; tls: {ca-file: /etc/ca.pem} "
                + "| backends.remote.tls: applies to grpcs:// instances, and there are none",
        "protocol: kserve-v2; url: 'grpcs://127.0.0.1:1'; tls: {cert-file: /etc/c.pem} "
                + "| backends.remote.tls.key-file: a client certificate needs both cert-file and key-file",
        "protocol: kserve-v2; url: 'grpcs://127.0.0.1:1'; tls: {ca-file: /nonexistent/ca.pem} "
                + "| backends.remote.tls: cannot read the PEM files",
        "protocol: kserve-v2; url: 'grpc://127.0.0.1:1'; forward-headers: [grpc-timeout] "
                + "| backends.remote.forward-headers: 'grpc-timeout' cannot be forwarded",
        "protocol: kserve-v2; url: 'grpc://127.0.0.1:1'; max-message-size: 2GB "
                + "| backends.remote.max-message-size: must be at most 1GB",
    })
    void aBadValueIsReportedByItsKey(String settings, String expected) {
        String config = "backends:\n  remote:\n    type: grpc\n"
                + String.join("\n", settings.split("; ")).indent(4)
                + "routes:\n  - {model: m, backend: remote}\n";

        Deployment.InvalidConfigException invalid = assertThrows(Deployment.InvalidConfigException.class,
                () -> RunningGateway.start(config).close());

        assertEquals(1, invalid.problems().size(), invalid.getMessage());
        assertTrue(invalid.problems().getFirst().startsWith(expected), invalid.getMessage());
    }
}
