package dev.modelgate.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.modelgate.spi.Headers;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The SPI's {@link Headers}: what every backend, front and middleware relies on of it. */
class HeadersTest {

    private static List<String> lines(Headers headers) {
        List<String> lines = new ArrayList<>();
        headers.forEach((name, value) -> lines.add(name + ": " + value));
        return lines;
    }

    @Test
    void namesAreFoundInAnyCaseAndKeepTheirFirstSpelling() {
        Headers headers = new Headers().add("Content-Type", "application/json").add("X-Trace", "a")
                .add("x-trace", "b").add("X-TRACE", "c");

        assertEquals("application/json", headers.first("content-type"));
        assertEquals(List.of("a", "b", "c"), headers.all("x-Trace"));
        assertEquals(List.of("Content-Type: application/json", "X-Trace: a", "X-Trace: b", "X-Trace: c"),
                lines(headers));
        assertNull(headers.first("Accept"));
        assertEquals(List.of(), headers.all("Accept"));
        assertThrows(UnsupportedOperationException.class, () -> headers.all("X-Trace").add("d"));
        assertThrows(UnsupportedOperationException.class, () -> headers.all("Content-Type").add("d"));
    }

    @Test
    void setReplacesEveryValueInPlaceAndRemoveKeepsTheOthersInOrder() {
        Headers headers = new Headers().add("A", "1").add("B", "2").add("b", "3").add("C", "4");

        headers.set("b", "5");
        assertEquals(List.of("A: 1", "b: 5", "C: 4"), lines(headers));
        headers.remove("A").remove("missing");
        assertEquals(List.of("b: 5", "C: 4"), lines(headers));
        headers.remove("c").remove("B");
        assertTrue(headers.isEmpty());
        assertFalse(headers.contains("b"));
    }

    @Test
    void holdsManyFieldsAndCopiesAreIndependent() {
        Headers headers = new Headers();
        for (int i = 0; i < 100; i++) {
            headers.add("X-Field-" + i, "v" + i);
        }
        headers.add("X-Field-7", "again");
        Headers copy = new Headers(headers);
        copy.add("X-Field-7", "copy only").set("X-Field-99", "changed").remove("X-Field-0");

        assertEquals(List.of("v7", "again"), headers.all("x-field-7"));
        assertEquals("v99", headers.first("X-Field-99"));
        assertEquals("v0", headers.first("X-Field-0"));
        assertEquals(List.of("v7", "again", "copy only"), copy.all("X-Field-7"));
        assertEquals("changed", copy.first("x-field-99"));
        assertEquals(101, lines(headers).size());
        assertEquals(101, lines(copy).size());
    }
}
