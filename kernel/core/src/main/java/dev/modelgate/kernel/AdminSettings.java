package dev.modelgate.kernel;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Base64;
import java.util.List;

/**
 * Who may use the admin endpoints beyond the open probes, from the {@code admin} section: a request carrying
 * {@code Authorization: Bearer <token>} (or Basic with the token as the password), or one that the admin pipeline
 * ({@code jwt} then {@code authorize} with an admin role, say) lets through. With neither configured those endpoints are disabled.
 *
 * @param token the admin token, or {@code null}
 * @param steps the admin pipeline, possibly empty
 */
record AdminSettings(String token, List<Step> steps) {

    static final int MIN_TOKEN_LENGTH = 32;

    AdminSettings {
        steps = List.copyOf(steps);
    }

    /**
     * Whether {@code authorization} presents the token: {@code Bearer <token>}, or {@code Basic} with the token as
     * the password and any user name, which is what tools that take only a URL send for
     * {@code http://admin:<token>@host/...} ({@code go tool pprof}). Constant time whatever the lengths.
     */
    boolean acceptsToken(String authorization) {
        if (token == null || authorization == null) {
            return false;
        }
        String presented;
        if (authorization.regionMatches(true, 0, "Bearer ", 0, 7)) {
            presented = authorization.substring(7).strip();
        } else if (authorization.regionMatches(true, 0, "Basic ", 0, 6)) {
            presented = basicPassword(authorization.substring(6).strip());
        } else {
            return false;
        }
        return presented != null && MessageDigest.isEqual(sha256(token), sha256(presented));
    }

    /** The password of Basic credentials ({@code base64(user:password)}), or {@code null} when malformed. */
    private static String basicPassword(String credentials) {
        try {
            String decoded = new String(Base64.getDecoder().decode(credentials), StandardCharsets.UTF_8);
            int colon = decoded.indexOf(':');
            return colon < 0 ? null : decoded.substring(colon + 1);
        } catch (IllegalArgumentException e) {
            return null;
        }
    }

    private static byte[] sha256(String text) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JDK has SHA-256", e);
        }
    }
}
