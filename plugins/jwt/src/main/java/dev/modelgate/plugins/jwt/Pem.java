package dev.modelgate.plugins.jwt;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.spec.PKCS8EncodedKeySpec;
import java.security.spec.X509EncodedKeySpec;
import java.util.Base64;

/** Reads keys from PEM files: public keys as X.509 SubjectPublicKeyInfo, private keys as unencrypted PKCS#8. */
final class Pem {

    private Pem() {
    }

    /**
     * The {@code BEGIN PUBLIC KEY} block of {@code file} as a key of {@code keyFactoryName} ({@code RSA}, {@code EC}).
     *
     * @throws IOException when the file cannot be read or holds no such block
     * @throws GeneralSecurityException when the block is not a key of that type
     */
    static PublicKey publicKey(Path file, String keyFactoryName) throws IOException, GeneralSecurityException {
        byte[] der = block(file, "PUBLIC KEY");
        return KeyFactory.getInstance(keyFactoryName).generatePublic(new X509EncodedKeySpec(der));
    }

    /** The {@code BEGIN PRIVATE KEY} block of {@code file}, as {@link #publicKey} reads public keys. */
    static PrivateKey privateKey(Path file, String keyFactoryName) throws IOException, GeneralSecurityException {
        byte[] der = block(file, "PRIVATE KEY");
        return KeyFactory.getInstance(keyFactoryName).generatePrivate(new PKCS8EncodedKeySpec(der));
    }

    private static byte[] block(Path file, String label) throws IOException {
        String text = Files.readString(file, StandardCharsets.US_ASCII);
        String begin = "-----BEGIN " + label + "-----";
        String end = "-----END " + label + "-----";
        int start = text.indexOf(begin);
        int stop = start < 0 ? -1 : text.indexOf(end, start);
        if (stop < 0) {
            throw new IOException("no '" + begin + "' block (other key formats: convert with "
                    + "openssl pkey -in KEY -pubout, or openssl pkcs8 -topk8 -nocrypt for private keys)");
        }
        try {
            return Base64.getMimeDecoder().decode(text.substring(start + begin.length(), stop));
        } catch (IllegalArgumentException e) {
            throw new IOException("the '" + label + "' block is not valid base64");
        }
    }
}
