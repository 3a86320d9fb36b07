package dev.modelgate.plugins.onnx;

import java.io.IOException;
import java.io.InputStream;
import java.net.JarURLConnection;
import java.net.URL;
import java.net.URLConnection;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * ONNX Runtime's native libraries, unpacked once per user instead of at every start. Left alone, ONNX Runtime copies
 * its 22 MB library out of the jar into a new temporary folder each time the gateway starts (a sixth of the start);
 * this unpacks it into {@code ~/.cache/modelgate/onnxruntime/PLATFORM-CRC} ({@code $XDG_CACHE_HOME} when set), named
 * by the library's checksum in the jar, so that another jar's library never mixes in, and points ONNX Runtime there
 * with its {@code onnxruntime.native.path} property. When that property is set already, when the libraries are not in
 * a jar, or when the folder cannot be written (a service user without a home), ONNX Runtime does as it always did.
 */
final class NativeLibraryCache {

    static final String PATH_PROPERTY = "onnxruntime.native.path";
    private static final List<String> LIBRARIES = List.of("onnxruntime", "onnxruntime4j_jni");

    private NativeLibraryCache() {
    }

    /** Sets {@code onnxruntime.native.path} to the cached libraries when it is not set and they can be cached. */
    static void useCachedLibraries(System.Logger logger) {
        if (System.getProperty(PATH_PROPERTY) != null) {
            return;
        }
        String xdg = System.getenv("XDG_CACHE_HOME");
        Path root = (xdg != null && !xdg.isBlank() ? Path.of(xdg) : Path.of(System.getProperty("user.home"), ".cache"))
                .resolve("modelgate").resolve("onnxruntime");
        try {
            unpack(root, platform()).ifPresent(folder -> System.setProperty(PATH_PROPERTY, folder.toString()));
        } catch (IOException | RuntimeException e) {
            logger.log(System.Logger.Level.DEBUG, "ONNX Runtime's libraries not cached under " + root + ": " + e);
        }
    }

    /**
     * The folder under {@code root} holding this platform's libraries, unpacked there first when missing; empty when
     * they are not in a jar (an exploded class path), where there is nothing to save.
     */
    static Optional<Path> unpack(Path root, String platform) throws IOException {
        String prefix = "ai/onnxruntime/native/" + platform + "/";
        List<URL> resources = LIBRARIES.stream()
                .map(name -> NativeLibraryCache.class.getClassLoader().getResource(prefix + System.mapLibraryName(name)))
                .toList();
        if (resources.contains(null)) {
            return Optional.empty();
        }
        long checksum = 0;
        for (URL resource : resources) {
            URLConnection connection = resource.openConnection();
            if (!(connection instanceof JarURLConnection jar)) {
                return Optional.empty();
            }
            checksum = 31 * checksum + jar.getJarEntry().getCrc();
        }
        Path folder = root.resolve(platform + "-" + Long.toHexString(checksum));
        createPrivateFolder(folder);
        for (int i = 0; i < resources.size(); i++) {
            Path library = folder.resolve(System.mapLibraryName(LIBRARIES.get(i)));
            if (!Files.isRegularFile(library)) {
                // Another gateway may be unpacking the same library: each writes its own copy and moves it in whole.
                Path partial = Files.createTempFile(folder, library.getFileName().toString(), ".partial");
                try (InputStream in = resources.get(i).openStream()) {
                    Files.copy(in, partial, StandardCopyOption.REPLACE_EXISTING);
                    Files.move(partial, library, StandardCopyOption.ATOMIC_MOVE);
                } finally {
                    Files.deleteIfExists(partial);
                }
            }
        }
        return Optional.of(folder);
    }

    /** Creates {@code folder} and its parents, readable by this user alone where the file system can say so. */
    private static void createPrivateFolder(Path folder) throws IOException {
        if (Files.isDirectory(folder)) {
            if (!Files.isWritable(folder)) {
                throw new AccessDeniedException(folder.toString());
            }
            return;
        }
        try {
            Files.createDirectories(folder.getParent());
            if (folder.getFileSystem().supportedFileAttributeViews().contains("posix")) {
                Files.createDirectory(folder, PosixFilePermissions.asFileAttribute(
                        PosixFilePermissions.fromString("rwx------")));
            } else {
                Files.createDirectory(folder);
            }
        } catch (FileAlreadyExistsException e) {
            // created meanwhile by another gateway
        }
    }

    /** ONNX Runtime's name for this platform's folder of libraries: linux-x64, osx-aarch64, win-x64, ... */
    static String platform() {
        String os = System.getProperty("os.name").toLowerCase(Locale.ROOT);
        String arch = System.getProperty("os.arch").toLowerCase(Locale.ROOT);
        String osName = os.contains("mac") || os.contains("darwin") ? "osx" : os.contains("win") ? "win" : "linux";
        String archName = arch.equals("amd64") || arch.equals("x86_64") ? "x64" : arch;
        return osName + "-" + archName;
    }
}
