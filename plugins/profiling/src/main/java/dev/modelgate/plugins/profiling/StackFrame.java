package dev.modelgate.plugins.profiling;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * One frame of a thread dump, read back from {@code StackTraceElement}'s text:
 * {@code [loader/][module[@version]/]class.method(source)}, where source is {@code File.java:12},
 * {@code File.java}, {@code Native Method} or {@code Unknown Source}.
 *
 * @param line the line number, 0 when unknown
 */
record StackFrame(String className, String method, String source, int line) {

    private static final Pattern ELEMENT = Pattern.compile("(.*)\\.([^.(]+)\\((.*)\\)");
    private static final Pattern LINE = Pattern.compile(".*:([0-9]{1,9})");
    /** The name of a hidden class (a lambda's) ends in its address: {@code Foo$$Lambda/0x0000000801001000}. */
    private static final Pattern HIDDEN_CLASS_SUFFIX = Pattern.compile("0x[0-9a-fA-F]+");

    static StackFrame parse(String element) {
        Matcher parts = ELEMENT.matcher(element);
        if (!parts.matches()) {
            return new StackFrame(element, "", "", 0);
        }
        String[] segments = parts.group(1).split("/", -1);
        int last = segments.length - 1;
        String className = last > 0 && HIDDEN_CLASS_SUFFIX.matcher(segments[last]).matches()
                ? segments[last - 1] + "/" + segments[last] : segments[last];
        Matcher line = LINE.matcher(parts.group(3));
        return new StackFrame(className, parts.group(2), parts.group(3),
                line.matches() ? Integer.parseInt(line.group(1)) : 0);
    }
}
