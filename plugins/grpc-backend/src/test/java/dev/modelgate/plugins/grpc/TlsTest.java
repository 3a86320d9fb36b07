package dev.modelgate.plugins.grpc;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.modelgate.kernel.testing.RunningGateway;
import dev.modelgate.kernel.testing.SelfSignedCertificate;
import io.grpc.TlsServerCredentials;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A grpcs:// instance that wants a client certificate: the tls section's CA and client certificate reach it. */
class TlsTest {

    @TempDir
    Path folder;

    private static String config(ModelServer server, String tls) {
        return """
                backends:
                  secure:
                    type: grpc
                    protocol: model-service
                    url: %s
                    tls:
                %s
                routes:
                  - {model: half, backend: secure}
                """.formatted(server.url(), tls.indent(6));
    }

    private static HttpResponse<String> predict(RunningGateway gateway) {
        return gateway.post("/v2/models/half/infer", "application/json", """
                {"inputs":[{"name":"features","shape":[1,1],"datatype":"FP32","data":[4]}]}""");
    }

    @Test
    void mutualTlsWithTheConfiguredCaAndClientCertificate() throws Exception {
        SelfSignedCertificate serverCertificate = SelfSignedCertificate.create(Files.createDirectory(
                folder.resolve("server")));
        SelfSignedCertificate clientCertificate = SelfSignedCertificate.create(Files.createDirectory(
                folder.resolve("client")));
        TlsServerCredentials.Builder credentials = TlsServerCredentials.newBuilder()
                .keyManager(serverCertificate.certFile().toFile(), serverCertificate.keyFile().toFile())
                .trustManager(clientCertificate.certFile().toFile())
                .clientAuth(TlsServerCredentials.ClientAuth.REQUIRE);
        String trust = "ca-file: " + serverCertificate.certFile() + "\n";
        String client = "cert-file: " + clientCertificate.certFile() + "\nkey-file: " + clientCertificate.keyFile()
                + "\n";
        try (ModelServer server = ModelServer.start(credentials.build())) {
            try (RunningGateway gateway = RunningGateway.start(config(server, trust + client))) {
                HttpResponse<String> response = predict(gateway);
                assertEquals(200, response.statusCode(), response.body());
            }
            try (RunningGateway withoutClientCertificate = RunningGateway.start(config(server, trust))) {
                assertEquals(503, predict(withoutClientCertificate).statusCode(), "the handshake fails: 40003");
            }
        }
    }
}
