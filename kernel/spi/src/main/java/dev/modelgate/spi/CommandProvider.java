package dev.modelgate.spi;

import java.io.PrintStream;
import java.time.Clock;
import java.util.List;

/**
 * A sub-command of {@code java -jar gateway.jar} that a plugin adds, found with {@link java.util.ServiceLoader} like
 * the other providers: {@code java -jar gateway.jar token --sub alice} runs the provider whose {@link #type()} is
 * {@code token}.
 */
public interface CommandProvider extends PluginProvider {

    /** What the command gets: its arguments, the loaded configuration and where to print. */
    interface Invocation {

        /** The arguments after the command name, without the kernel's {@code --config} and {@code --plugins}. */
        List<String> args();

        /** The root of the configuration ({@code --config FILE}, else the default), variables substituted. */
        ConfigNode config();

        PrintStream out();

        PrintStream err();

        Clock clock();
    }

    /** One line for the usage text: arguments and what the command does. */
    String summary();

    /**
     * Runs the command to completion.
     *
     * @return the process exit code: 0 success, 1 failure, 2 bad arguments
     */
    int run(Invocation invocation) throws Exception;
}
