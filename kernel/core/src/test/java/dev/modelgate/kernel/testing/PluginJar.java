package dev.modelgate.kernel.testing;

import com.fasterxml.jackson.databind.JsonNode;
import dev.modelgate.spi.PluginProvider;
import java.io.IOException;
import java.io.OutputStream;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import java.util.stream.Stream;
import javax.tools.JavaCompiler;
import javax.tools.ToolProvider;

/**
 * Builds a plugin jar at test time, as another team would: Java sources compiled against the SPI alone, packed with
 * their {@code META-INF/services} file. The classes exist only in the jar, never on the test class path.
 */
public final class PluginJar {

    private PluginJar() {
    }

    /**
     * Compiles {@code sources} (whole Java files, one public class each) and writes them, with the services file,
     * to {@code jar}.
     *
     * @param serviceInterface the SPI interface the providers implement
     * @param providerClasses fully qualified provider class names for the services file
     */
    public static Path build(Path jar, Class<? extends PluginProvider> serviceInterface, List<String> providerClasses,
            String... sources) throws IOException {
        Path work = Files.createTempDirectory("plugin-src-");
        List<Path> files = new ArrayList<>();
        for (String source : sources) {
            String className = source.replaceAll("(?s).*?public (?:final )?class (\\w+).*", "$1");
            Path file = work.resolve(className + ".java");
            Files.writeString(file, source);
            files.add(file);
        }
        Path classes = Files.createDirectories(work.resolve("classes"));
        JavaCompiler compiler = ToolProvider.getSystemJavaCompiler();
        List<String> arguments = new ArrayList<>(List.of("-d", classes.toString(), "--release", "21",
                "-classpath", location(PluginProvider.class) + java.io.File.pathSeparator + location(JsonNode.class)));
        files.forEach(file -> arguments.add(file.toString()));
        int exit = compiler.run(null, null, null, arguments.toArray(String[]::new));
        if (exit != 0) {
            throw new IllegalStateException("plugin sources did not compile (see the test output)");
        }
        try (OutputStream out = Files.newOutputStream(jar); JarOutputStream jarOut = new JarOutputStream(out);
                Stream<Path> compiled = Files.walk(classes)) {
            for (Path file : compiled.filter(Files::isRegularFile).toList()) {
                jarOut.putNextEntry(new JarEntry(classes.relativize(file).toString().replace('\\', '/')));
                jarOut.write(Files.readAllBytes(file));
                jarOut.closeEntry();
            }
            jarOut.putNextEntry(new JarEntry("META-INF/services/" + serviceInterface.getName()));
            jarOut.write((String.join("\n", providerClasses) + "\n").getBytes(StandardCharsets.UTF_8));
            jarOut.closeEntry();
        }
        return jar;
    }

    private static String location(Class<?> type) {
        try {
            return Path.of(type.getProtectionDomain().getCodeSource().getLocation().toURI()).toString();
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }
}
