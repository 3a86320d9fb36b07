package dev.modelgate.spi.upstream;

import dev.modelgate.spi.Headers;

/**
 * One call to send.
 *
 * @param method the HTTP method, a token
 * @param target the request target after the server: path and query, raw ({@code /v1/models/m:predict})
 * @param headers the headers to send as they are; the pool adds {@code Host}, {@code Content-Length} and what
 *     keep-alive needs
 * @param body the body, or {@code null} for none
 * @param timeoutNanos the whole call's time: waiting for a connection, connecting, sending, the answer's head and
 *     its body to the last byte, a streamed one included. At its end the call fails with
 *     {@link UpstreamException.Kind#TIMED_OUT} and its connection is closed; or, while it still waits for a
 *     connection, with {@link UpstreamException.Kind#POOL_EXHAUSTED}, as when the pool timeout ends the wait
 * @param maxResponseBytes the longest body accepted: one declared longer fails before a byte of it is read, one
 *     that grows longer fails when it does ({@link UpstreamException.Kind#TOO_LARGE})
 * @param streamAboveBytes a successful (2xx) answer of unknown length, or declared longer than this, comes back as a
 *     stream ({@link UpstreamAnswer#stream()}); every other answer is read whole first. {@code Integer.MAX_VALUE} to
 *     read every answer whole, one of unknown length included
 */
public record UpstreamRequest(String method, String target, Headers headers, byte[] body, long timeoutNanos,
        long maxResponseBytes, int streamAboveBytes) {

    /** @throws IllegalArgumentException for a method that is not an HTTP token, which would break the request line */
    public UpstreamRequest {
        boolean token = !method.isEmpty();
        for (int i = 0; token && i < method.length(); i++) {
            token = isTokenChar(method.charAt(i));
        }
        if (!token) {
            throw new IllegalArgumentException("not an HTTP method: '" + method + "'");
        }
    }

    /** RFC 9110's tchar. */
    private static boolean isTokenChar(char c) {
        return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
                || "!#$%&'*+-.^_`|~".indexOf(c) >= 0;
    }
}
