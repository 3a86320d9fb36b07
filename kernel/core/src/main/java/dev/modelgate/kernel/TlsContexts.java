package dev.modelgate.kernel;

import dev.modelgate.spi.ConfigNode;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.Base64;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.net.ssl.KeyManager;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.X509ExtendedKeyManager;

/** Builds the API listener's {@link SSLContext} from PEM files, with the JDK alone. */
final class TlsContexts {

    /** Only these; TLS 1.0 and 1.1 are broken. */
    static final List<String> PROTOCOLS = List.of("TLSv1.3", "TLSv1.2");

    private static final Pattern PKCS8 = Pattern.compile(
            "-----BEGIN PRIVATE KEY-----([A-Za-z0-9+/=\\s]+)-----END PRIVATE KEY-----");
    private static final List<String> KEY_ALGORITHMS = List.of("RSA", "EC", "Ed25519", "RSASSA-PSS");

    private TlsContexts() {
    }

    /** Reports unreadable files or keys on {@code node}, naming the key, so that the gateway does not start. */
    static void check(ServerSettings.Tls tls, ConfigNode node) {
        try {
            certificates(tls);
        } catch (IOException | GeneralSecurityException | RuntimeException e) {
            node.problem("cert-file", "cannot read a PEM certificate chain: " + describe(e));
        }
        try {
            privateKey(tls);
        } catch (IOException | GeneralSecurityException | RuntimeException e) {
            node.problem("key-file", describe(e));
        }
    }

    private static String describe(Exception e) {
        return e instanceof java.nio.file.NoSuchFileException ? "no such file " + e.getMessage() : e.getMessage();
    }

    static SSLContext create(ServerSettings.Tls tls) throws IOException, GeneralSecurityException {
        return create(keyManager(tls));
    }

    /** A server context that presents what {@code keys} holds. */
    static SSLContext create(X509ExtendedKeyManager keys) throws GeneralSecurityException {
        SSLContext context = SSLContext.getInstance("TLS");
        context.init(new KeyManager[] {keys}, null, null);
        return context;
    }

    /** The certificate chain and key of {@code tls}, read now, as a key manager. */
    static X509ExtendedKeyManager keyManager(ServerSettings.Tls tls) throws IOException, GeneralSecurityException {
        KeyStore store = KeyStore.getInstance("PKCS12");
        store.load(null, null);
        char[] password = new char[0];
        store.setKeyEntry("gateway", privateKey(tls), password, certificates(tls).toArray(Certificate[]::new));
        KeyManagerFactory keys = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
        keys.init(store, password);
        return (X509ExtendedKeyManager) keys.getKeyManagers()[0];
    }

    private static List<? extends Certificate> certificates(ServerSettings.Tls tls)
            throws IOException, GeneralSecurityException {
        try (InputStream in = Files.newInputStream(tls.certFile())) {
            List<? extends Certificate> chain = List.copyOf(
                    CertificateFactory.getInstance("X.509").generateCertificates(in));
            if (chain.isEmpty()) {
                throw new GeneralSecurityException("no certificate in " + tls.certFile());
            }
            return chain;
        }
    }

    private static PrivateKey privateKey(ServerSettings.Tls tls) throws IOException, GeneralSecurityException {
        Matcher pem = PKCS8.matcher(Files.readString(tls.keyFile(), StandardCharsets.US_ASCII));
        if (!pem.find()) {
            throw new GeneralSecurityException("expected an unencrypted PKCS#8 key (BEGIN PRIVATE KEY) in "
                    + tls.keyFile() + "; convert one with: openssl pkcs8 -topk8 -nocrypt -in KEY -out KEY.pk8");
        }
        PKCS8EncodedKeySpec spec = new PKCS8EncodedKeySpec(Base64.getMimeDecoder().decode(pem.group(1)));
        for (String algorithm : KEY_ALGORITHMS) {
            try {
                return KeyFactory.getInstance(algorithm).generatePrivate(spec);
            } catch (GeneralSecurityException e) {
                // not this algorithm: try the next
            }
        }
        throw new GeneralSecurityException("the key in " + tls.keyFile() + " is not an RSA, EC or Ed25519 key");
    }
}
