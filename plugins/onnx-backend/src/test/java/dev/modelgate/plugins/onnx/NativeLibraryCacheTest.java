package dev.modelgate.plugins.onnx;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** ONNX Runtime's libraries unpacked from its jar once, then found where they were left. */
class NativeLibraryCacheTest {

    @TempDir
    Path cache;

    @Test
    void unpacksThisPlatformsLibrariesOnceIntoAFolderNamedByTheirChecksum() throws Exception {
        String platform = NativeLibraryCache.platform();
        Path folder = NativeLibraryCache.unpack(cache, platform).orElseThrow();

        assertEquals(cache, folder.getParent());
        assertTrue(folder.getFileName().toString().matches(platform + "-[0-9a-f]+"), folder.toString());
        for (String name : List.of("onnxruntime", "onnxruntime4j_jni")) {
            String file = System.mapLibraryName(name);
            try (InputStream in = getClass().getClassLoader().getResourceAsStream(
                    "ai/onnxruntime/native/" + platform + "/" + file)) {
                assertArrayEquals(in.readAllBytes(), Files.readAllBytes(folder.resolve(file)), file);
            }
        }
        try (var files = Files.list(folder)) {
            assertEquals(2, files.count(), "no partial copies left behind");
        }

        Path library = folder.resolve(System.mapLibraryName("onnxruntime"));
        FileTime written = FileTime.fromMillis(0);
        Files.setLastModifiedTime(library, written);
        assertEquals(folder, NativeLibraryCache.unpack(cache, platform).orElseThrow());
        assertEquals(written, Files.getLastModifiedTime(library), "found, not written again");
    }

    @Test
    void aPlatformWhoseLibrariesTheJarLacksIsLeftToOnnxRuntime() throws Exception {
        assertTrue(NativeLibraryCache.unpack(cache, "plan9-mips").isEmpty());
    }
}
