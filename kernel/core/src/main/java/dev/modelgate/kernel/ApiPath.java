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

    private static final Pattern PATH = Pattern.compile("^(?:/(v[0-9]+))?/models(?:/([^/:]+)(:predict)?)?/?$");
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

    /** The API path {@code path} names, or {@code null} when it names none. */
    static ApiPath parse(String path) {
        Matcher matcher = PATH.matcher(path);
        if (!matcher.matches()) {
            return null;
        }
        String model = matcher.group(2);
        Operation operation = model == null ? Operation.LIST_MODELS
                : matcher.group(3) == null ? Operation.GET_MODEL : Operation.PREDICT;
        return new ApiPath(operation, model, matcher.group(1));
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
