package dev.modelgate.dist;

import java.lang.reflect.InvocationTargetException;

/**
 * The jar's entry point, compiled for Java 8 so that any Java can load it: on a runtime older than 21 it says in one
 * line what is needed and how to get it, and exits 1, where the gateway's own classes would end in an
 * {@code UnsupportedClassVersionError}. On 21 and newer it hands over to {@code dev.modelgate.kernel.Main}.
 */
public final class Launcher {

    static final int REQUIRED_FEATURE = 21;
    private static final String MAIN = "dev.modelgate.kernel.Main";

    private Launcher() {
    }

    public static void main(String[] args) throws Throwable {
        int feature = feature(System.getProperty("java.specification.version"));
        if (feature < REQUIRED_FEATURE) {
            System.err.println("modelgate: needs Java " + REQUIRED_FEATURE + " or newer, but this is Java "
                    + System.getProperty("java.version") + " (" + System.getProperty("java.home") + "); set JAVA_HOME"
                    + " to a JDK " + REQUIRED_FEATURE + "+ and run \"$JAVA_HOME/bin/java\" -jar gateway.jar, or use"
                    + " scripts/run, which finds one");
            System.exit(1);
        }
        try {
            Class.forName(MAIN).getMethod("main", String[].class).invoke(null, (Object) args);
        } catch (InvocationTargetException e) {
            throw e.getCause();
        }
    }

    /** The feature release of a {@code java.specification.version}: {@code 1.8} is 8, {@code 17} is 17. */
    static int feature(String specificationVersion) {
        String version = specificationVersion.startsWith("1.") ? specificationVersion.substring(2)
                : specificationVersion;
        int end = 0;
        while (end < version.length() && Character.isDigit(version.charAt(end))) {
            end++;
        }
        return end == 0 ? 0 : Integer.parseInt(version.substring(0, end));
    }
}
