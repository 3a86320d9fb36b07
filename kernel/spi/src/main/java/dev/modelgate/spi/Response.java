package dev.modelgate.spi;

/**
 * A response travelling back up the pipeline. Immutable: {@link #withHeader} returns a copy.
 *
 * <p>{@code code} is the gateway's result code: 0 for success, otherwise the {@link ErrorCode#code()} of the failure.
 * Backends answer with their own status and body and code 0; the kernel maps backend failures to codes.
 */
public final class Response {

    private final int status;
    private final Headers headers;
    private final Body body;
    private final int code;

    /** A response with a copy of {@code headers}: later changes to them do not reach it. */
    public Response(int status, Headers headers, Body body, int code) {
        this(status, body, code, new Headers(headers));
    }

    /** Takes {@code ownHeaders} as they are: only for headers nobody else holds. */
    private Response(int status, Body body, int code, Headers ownHeaders) {
        if (status < 100 || status > 599) {
            throw new IllegalArgumentException("status must be between 100 and 599, but was " + status);
        }
        this.status = status;
        this.headers = ownHeaders;
        this.body = body == null ? Body.EMPTY : body;
        this.code = code;
    }

    /** A successful response with a content type and bytes. */
    public static Response of(int status, String contentType, byte[] bytes) {
        return new Response(status, Body.of(bytes), 0, new Headers().set("Content-Type", contentType));
    }

    public int status() {
        return status;
    }

    /** A copy of the headers; change them with {@link #withHeader}. */
    public Headers headers() {
        return new Headers(headers);
    }

    /** Calls {@code action} once per header value, without copying. */
    public void forEachHeader(java.util.function.BiConsumer<String, String> action) {
        headers.forEach(action);
    }

    public String header(String name) {
        return headers.first(name);
    }

    public Body body() {
        return body;
    }

    public int code() {
        return code;
    }

    public boolean isSuccess() {
        return code == 0;
    }

    /** A copy with {@code name} set to {@code value}, replacing earlier values. */
    public Response withHeader(String name, String value) {
        Headers copy = new Headers(headers);
        copy.set(name, value);
        return new Response(status, body, code, copy);
    }

    @Override
    public String toString() {
        return "Response{status=" + status + ", code=" + code + ", length=" + body.length() + "}";
    }
}
