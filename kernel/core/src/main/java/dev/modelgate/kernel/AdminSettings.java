package dev.modelgate.kernel;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.List;

/**
 * Who may use the admin endpoints beyond the open probes, from the {@code admin} section: a request carrying
 * {@code Authorization: Bearer <token>}, or one that the admin pipeline ({@code jwt} then {@code authorize} with an
 * admin role, say) lets through. With neither configured those endpoints are disabled.
 *
 * @param token the admin token, or {@code null}
 * @param steps the admin pipeline, possibly empty
 */
record AdminSettings(String token, List<Step> steps) {

    static final int MIN_TOKEN_LENGTH = 32;

    AdminSettings {
        steps = List.copyOf(steps);
    }

    /** Whether {@code authorization} presents the token; constant time whatever the lengths. */
    boolean acceptsToken(String authorization) {
        if (token == null || authorization == null || !authorization.regionMatches(true, 0, "Bearer ", 0, 7)) {
            return false;
        }
        return MessageDigest.isEqual(sha256(token), sha256(authorization.substring(7).strip()));
    }

    private static byte[] sha256(String text) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JDK has SHA-256", e);
        }
    }
}
