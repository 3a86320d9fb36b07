package dev.modelgate.kernel;

import dev.modelgate.spi.CoreErrors;
import dev.modelgate.spi.RejectionException;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.util.Locale;
import java.util.zip.GZIPInputStream;
import java.util.zip.InflaterInputStream;
import java.util.zip.GZIPOutputStream;
import java.util.zip.ZipException;

/**
 * gzip in both directions: request bodies sent with {@code Content-Encoding: gzip}, inflated within the body limit,
 * and answers compressed for clients that accept it.
 */
final class ContentEncoding {

    private static final int CHUNK = 16 * 1024;

    private ContentEncoding() {
    }

    /**
     * The body as sent before {@code contentEncoding} (gzip or deflate) was applied. The limit holds for the inflated size, and
     * inflating stops as soon as it is passed, so a small bomb costs no more than {@code maxBytes} of memory.
     *
     * @throws RejectionException {@link CoreErrors#UNSUPPORTED_CONTENT_ENCODING} for an encoding other than these,
     *     {@link CoreErrors#MALFORMED_GZIP} for a body that is not gzip, {@link CoreErrors#INFLATED_BODY_TOO_LARGE} past the
     *     limit
     */
    static byte[] decode(String contentEncoding, byte[] body, long maxBytes) {
        String encoding = contentEncoding.strip().toLowerCase(Locale.ROOT);
        if (encoding.isEmpty() || encoding.equals("identity")) {
            return body;
        }
        boolean deflate = encoding.equals("deflate");
        if (!deflate && !encoding.equals("gzip") && !encoding.equals("x-gzip")) {
            throw new RejectionException(CoreErrors.UNSUPPORTED_CONTENT_ENCODING,
                    "'" + contentEncoding + "'; send gzip, deflate or an unencoded body");
        }
        // deflate is zlib's format (RFC 9110), as tritonclient's request compression sends it.
        try (InputStream in = deflate ? new InflaterInputStream(new ByteArrayInputStream(body))
                : new GZIPInputStream(new ByteArrayInputStream(body), CHUNK)) {
            ByteArrayOutputStream out = new ByteArrayOutputStream(Math.min(body.length * 4, CHUNK));
            byte[] chunk = new byte[CHUNK];
            long total = 0;
            for (int read; (read = in.read(chunk)) > 0; ) {
                total += read;
                if (total > maxBytes) {
                    throw new RejectionException(CoreErrors.INFLATED_BODY_TOO_LARGE,
                            "the limit is " + maxBytes + " bytes once inflated");
                }
                out.write(chunk, 0, read);
            }
            return out.toByteArray();
        } catch (ZipException | EOFException e) {
            // The inflaters' own words for a body that is not what its encoding says.
            throw new RejectionException(CoreErrors.MALFORMED_GZIP, e.getMessage());
        } catch (IOException e) {
            throw new RejectionException(CoreErrors.MALFORMED_GZIP, e.toString());
        }
    }

    /** Whether an {@code Accept-Encoding} header accepts gzip (and does not refuse it with {@code q=0}). */
    static boolean acceptsGzip(String acceptEncoding) {
        if (acceptEncoding == null) {
            return false;
        }
        for (String entry : acceptEncoding.split(",")) {
            String[] parts = entry.split(";");
            String coding = parts[0].strip().toLowerCase(Locale.ROOT);
            if (coding.equals("gzip") || coding.equals("x-gzip") || coding.equals("*")) {
                for (int i = 1; i < parts.length; i++) {
                    String parameter = parts[i].strip().replace(" ", "");
                    if (parameter.matches("q=0(\\.0*)?")) {
                        return false;
                    }
                }
                return true;
            }
        }
        return false;
    }

    static byte[] gzip(byte[] body) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(body.length / 2 + 64);
        try (GZIPOutputStream gzip = new GZIPOutputStream(out, CHUNK)) {
            gzip.write(body);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e); // memory streams do not fail
        }
        return out.toByteArray();
    }
}
