package dev.modelgate.kernel;

import dev.modelgate.spi.Operation;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A request path of the model API, taken apart: {@code /v1/models}, {@code /v1/models/{name}},
 * {@code /v1/models/{name}:predict}, or the same without the version prefix (the version then comes from
 * {@code Accept: application/vnd.modelgate.v2+json}).
 *
 * @param operation what is asked
 * @param model the model name, {@code null} when listing
 * @param pathVersion the version from the path, or {@code null} on an unversioned path
 */
record ApiPath(Operation operation, String model, String pathVersion) {

    private static final String MODELS = "/models";
    private static final String PREDICT = ":predict";
    private static final Pattern ACCEPT_VERSION = Pattern.compile("application/vnd\\.modelgate\\.(v[0-9]+)\\+json");

    /** The longest part of a path echoed whole in an error message; model names are at most 128 characters. */
    static final int MAX_ECHOED = 128;

    /**
     * A part of the client's path ({@code 'model'}) quoted for an error message, shortened past {@link #MAX_ECHOED}
     * characters: a client can send a name of kilobytes, and gets back enough to recognise it.
     */
    static String quoted(String part) {
        return part.length() <= MAX_ECHOED ? "'" + part + "'"
                : "'" + part.substring(0, MAX_ECHOED) + "...' (" + part.length() + " characters)";
    }

    /**
     * The API path {@code path} names, or {@code null} when it names none: {@code [/v<digits>]/models[/<name>[:predict]]}
     * with an optional trailing slash, the name without '/' or ':'. Taken apart by hand, as it is for every request
     * (a regular expression was 3% of the bare route's allocations).
     */
    static ApiPath parse(String path) {
        int length = path.length();
        int at = 0;
        String version = null;
        if (path.startsWith("/v")) {
            int digits = 2;
            while (digits < length && isDigit(path.charAt(digits))) {
                digits++;
            }
            if (digits > 2 && path.startsWith(MODELS, digits)) {
                version = path.substring(1, digits);
                at = digits;
            }
        }
        if (!path.startsWith(MODELS, at)) {
            return null;
        }
        at += MODELS.length();
        if (endsAt(path, at)) {
            return new ApiPath(Operation.LIST_MODELS, null, version);
        }
        if (path.charAt(at) != '/') {
            return null;
        }
        int nameEnd = ++at;
        while (nameEnd < length && path.charAt(nameEnd) != '/' && path.charAt(nameEnd) != ':') {
            nameEnd++;
        }
        if (nameEnd == at) {
            return null;
        }
        boolean predict = path.startsWith(PREDICT, nameEnd);
        if (!endsAt(path, predict ? nameEnd + PREDICT.length() : nameEnd)) {
            return null;
        }
        return new ApiPath(predict ? Operation.PREDICT : Operation.GET_MODEL, path.substring(at, nameEnd), version);
    }

    private static boolean isDigit(char c) {
        return c >= '0' && c <= '9';
    }

    /** Whether {@code path} ends at {@code at}, but for an optional trailing slash. */
    private static boolean endsAt(String path, int at) {
        return at == path.length() || at == path.length() - 1 && path.charAt(at) == '/';
    }

    /** The HTTP method this operation takes. */
    String method() {
        return operation == Operation.PREDICT ? "POST" : "GET";
    }

    /** The version the request speaks: from the path, else from the Accept header, else {@code v1}. */
    String version(String accept) {
        if (pathVersion != null) {
            return pathVersion;
        }
        if (accept != null) {
            Matcher matcher = ACCEPT_VERSION.matcher(accept);
            if (matcher.find()) {
                return matcher.group(1);
            }
        }
        return "v1";
    }
}
