package dev.modelgate.kernel;

import static dev.modelgate.kernel.testing.Mutations.bytewise;
import static dev.modelgate.kernel.testing.Mutations.randomCuts;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.modelgate.kernel.testing.Mutations;
import dev.modelgate.spi.CoreErrors;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * {@link Http1Framing} takes runs of ordinary bytes in one step and copies head bytes in blocks: what it decides
 * must not depend on how the stream is cut into reads. Each stream, valid or mutated, is scanned whole, a byte at a
 * time and in random cuts, from direct buffers as Undertow's are, and every way must end the same messages at the
 * same offsets and refuse at the same byte with the same code and detail.
 */
class Http1FramingTest {

    private static final Http1Framing.Limits LIMITS = new Http1Framing.Limits(512, 20, 128);
    private static final List<String> SEEDS = List.of(
            "GET /v1/models/m HTTP/1.1\r\nHost: localhost:8080\r\n\r\n",
            "POST /v1/models/m:predict HTTP/1.1\r\nHost: 127.0.0.1:8080\r\nContent-Length: 34\r\n"
                    + "Content-Type: application/json\r\n\r\n{\"instances\":[[5.1,3.5,1.4,0.2]]}"
                    + "GET /healthz?x=1&y=%20 HTTP/1.1\r\nhost: [::1]:80\r\nX-Tab:\ta\tb \r\n\r\n",
            "POST /v2/models/m/infer HTTP/1.1\r\nHOST: example.com\r\nTransfer-Encoding: chunked\r\n\r\n"
                    + "5;ext=\"v\"\r\nhello\r\n0 ;last\r\nTrailer-One: yes\r\n\r\n"
                    + "POST /x HTTP/1.0\r\nContent-Length: 2\r\n\r\nok",
            "PUT /" + "a".repeat(120) + " HTTP/1.1\r\nHost: h\r\n" + "X-Long: " + "v".repeat(300) + "\r\n\r\n");

    @Test
    void everyCutOfTheSeedsDecidesAlike() {
        Random random = new Random(1130);
        for (String seed : SEEDS) {
            byte[] stream = seed.getBytes(StandardCharsets.ISO_8859_1);
            List<String> whole = outcome(stream, new int[] {stream.length});
            assertEquals(List.of(), refusals(whole), seed);
            assertEquals(whole, outcome(stream, bytewise(stream.length)), seed);
            assertEquals(whole, outcome(stream, randomCuts(stream.length, random)), seed);
        }
    }

    @Test
    void everyCutOfAMutatedStreamDecidesAlike() {
        Random random = new Random(20261130);
        String alphabet = " \t\r\n:;/?%[]@!$&'()*+,=\"\u0000\u007f\u00ffAaZz09-._~HTPGOS1";
        int refused = 0;
        for (int round = 0; round < 1500 * SEEDS.size(); round++) {
            String mutated = Mutations.of(SEEDS.get(round % SEEDS.size()), alphabet, random);
            byte[] stream = mutated.getBytes(StandardCharsets.ISO_8859_1);
            List<String> whole = outcome(stream, new int[] {stream.length});
            refused += refusals(whole).size();
            assertEquals(whole, outcome(stream, bytewise(stream.length)), mutated);
            assertEquals(whole, outcome(stream, randomCuts(stream.length, random)), mutated);
        }
        // The mutations must reach the refusals, or the comparison says nothing about them.
        assertTrue(refused > 1000, "refused " + refused);
    }

    @Test
    void hostsAreJudgedAsRfc3986Says() {
        // RFC 3986's uri-host (reg-name, IPv4, a bracketed IPv6 literal) and an optional port: an independent oracle.
        Pattern uriHost = Pattern.compile("(\\[[0-9A-Fa-f:.]+\\]|[A-Za-z0-9\\-._~!$&'()*+,;=%]*)(:[0-9]{0,5})?");
        Random random = new Random(7);
        String alphabet = "[]:.09afAFxz-_~!$&'()*+,;=%@/ \u00e9";
        List<String> hosts = new ArrayList<>(List.of("", "a", "a:", "a:1", "a:123456", "[::1]", "[::1]:8080", "[]",
                "[::1", "::1]", "[v1.x]", "127.0.0.1:65535", "h@st", "h st"));
        for (int i = 0; i < 3000; i++) {
            StringBuilder host = new StringBuilder();
            for (int length = random.nextInt(10); length > 0; length--) {
                host.append(alphabet.charAt(random.nextInt(alphabet.length())));
            }
            hosts.add(host.toString());
        }
        for (String host : hosts) {
            Http1Framing framing = new Http1Framing(LIMITS);
            byte[] request = ("GET / HTTP/1.1\r\nHost: " + host + "\r\n\r\n").getBytes(StandardCharsets.UTF_8);
            framing.scan(ByteBuffer.wrap(request), request.length);
            boolean valid = uriHost.matcher(host.strip()).matches() && host.chars().allMatch(c -> c < 128);
            boolean refusedAsHost = framing.refusal() != null
                    && framing.refusal().errorCode() == CoreErrors.INVALID_HOST;
            assertEquals(!valid, refusedAsHost, "Host: " + host);
        }
    }

    /** The messages ended (at their offsets) and the refusal, if any, of {@code stream} read in {@code cuts}. */
    private static List<String> outcome(byte[] stream, int[] cuts) {
        Http1Framing framing = new Http1Framing(LIMITS);
        List<String> outcome = new ArrayList<>();
        int offset = 0;
        for (int cut : cuts) {
            ByteBuffer read = ByteBuffer.allocateDirect(cut).put(stream, offset, cut).flip();
            while (read.hasRemaining()) {
                int valid = framing.scan(read, read.remaining());
                offset += valid;
                read.position(read.position() + valid);
                if (framing.refusal() != null) {
                    outcome.add("refused at " + offset + ": " + framing.refusal().errorCode().code() + " "
                            + framing.refusal().detail());
                    outcome.add("target " + framing.target());
                    return outcome;
                }
                if (valid > 0 && framing.betweenMessages()) {
                    outcome.add("message ended at " + offset);
                }
            }
        }
        outcome.add(framing.inBody() ? "in a body" : framing.betweenMessages() ? "between messages" : "in a head");
        return outcome;
    }

    private static List<String> refusals(List<String> outcome) {
        return outcome.stream().filter(line -> line.startsWith("refused")).toList();
    }


}
