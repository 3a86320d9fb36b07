package dev.modelgate.kernel.upstream;

import static dev.modelgate.kernel.testing.Mutations.bytewise;
import static dev.modelgate.kernel.testing.Mutations.randomCuts;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.modelgate.kernel.testing.Mutations;
import dev.modelgate.spi.upstream.UpstreamException;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * {@link AnswerParser} copies head bytes in blocks and takes body data in runs: what it makes of an answer must not
 * depend on how the answer is cut into reads. Each answer, valid or mutated, is parsed whole, a byte at a time and in
 * random cuts, from direct buffers as the pool's are; valid ones must give what RFC 9112 says they mean, and every
 * way must end at the same byte or fail with the same reason.
 */
class AnswerParserTest {

    /** The answers, each with whether it answers a HEAD, and what they mean. */
    private record Seed(String answer, boolean head, List<String> meaning) {
    }

    private static final List<Seed> SEEDS = List.of(
            new Seed("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 11\r\n\r\n{\"a\":[1,2]}",
                    false, List.of("200 declared 11 keep-alive Content-Type: application/json|Content-Length: 11|",
                            "body {\"a\":[1,2]}", "ended at its end")),
            new Seed("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n"
                    + "HTTP/1.1 201 Created\r\nTransfer-Encoding: gzip, chunked\r\n\r\n"
                    + "5;ext=\"v\"\r\nhello\r\n6 \r\n world\r\n0\r\nTrailer-One: yes\r\nT2:\r\n\r\n", false,
                    List.of("interim 100", "interim 103",
                            "201 declared -1 keep-alive Transfer-Encoding: gzip, chunked|", "body hello world",
                            "ended at its end")),
            new Seed("HTTP/1.0 200 OK\r\nConnection: Keep-Alive\r\nContent-Length: 2\r\n\r\nok", false,
                    List.of("200 declared 2 keep-alive Connection: Keep-Alive|Content-Length: 2|", "body ok",
                            "ended at its end")),
            new Seed("HTTP/1.0 200 OK\r\nConnection: x-keep-alive,\tKEEP-ALIVE \r\nContent-Length: 2\r\n\r\nok", false,
                    List.of("200 declared 2 keep-alive Connection: x-keep-alive,\tKEEP-ALIVE|Content-Length: 2|",
                            "body ok", "ended at its end")),
            new Seed("HTTP/1.1 200 OK\r\nConnection: closed, upgrade\r\nContent-Length: 2\r\n\r\nok", false,
                    List.of("200 declared 2 keep-alive Connection: closed, upgrade|Content-Length: 2|", "body ok",
                            "ended at its end")),
            new Seed("HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok", false,
                    List.of("200 declared 2 close Content-Length: 2|", "body ok", "ended at its end")),
            new Seed("HTTP/1.1 204 No Content\r\nX-Tab:\ta\tb \r\n\r\n", false,
                    List.of("204 declared 0 keep-alive X-Tab: a\tb|", "body ", "ended at its end")),
            new Seed("HTTP/1.1 304 Not Modified\r\nContent-Length: 5\r\n\r\n", false,
                    List.of("304 declared 0 keep-alive Content-Length: 5|", "body ", "ended at its end")),
            new Seed("HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n", true,
                    List.of("200 declared 0 keep-alive Content-Length: 1000|", "body ", "ended at its end")),
            new Seed("HTTP/1.1 500\r\nConnection: close\r\n\r\nto the close", false,
                    List.of("500 declared -1 close Connection: close|", "body so far to the close, ends at the close")),
            new Seed("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\nzipped", false,
                    List.of("200 declared -1 close Transfer-Encoding: gzip|", "body so far zipped, ends at the close")),
            new Seed("HTTP/1.1 200 OK\r\nConnection: keep-alive, close\r\nContent-Length: 0\r\n\r\n", false,
                    List.of("200 declared 0 close Connection: keep-alive, close|Content-Length: 0|", "body ",
                            "ended at its end")));

    @Test
    void validAnswersMeanWhatRfc9112SaysWhateverTheirCuts() {
        Random random = new Random(1130);
        for (Seed seed : SEEDS) {
            byte[] answer = seed.answer().getBytes(StandardCharsets.ISO_8859_1);
            List<String> whole = outcome(answer, seed.head(), new int[] {answer.length});
            assertEquals(seed.meaning(), whole.stream()
                    .map(line -> line.equals("ended at " + answer.length) ? "ended at its end" : line).toList(),
                    seed.answer());
            assertEquals(whole, outcome(answer, seed.head(), bytewise(answer.length)), seed.answer());
            assertEquals(whole, outcome(answer, seed.head(), randomCuts(answer.length, random)), seed.answer());
        }
    }

    @Test
    void noByteAfterTheAnswerIsTaken() throws Exception {
        byte[] answer = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokHTTP/1.1 200 OK\r\n\r\n"
                .getBytes(StandardCharsets.ISO_8859_1);
        AnswerParser parser = new AnswerParser();
        parser.start(false);
        ByteBuffer read = ByteBuffer.wrap(answer);
        assertTrue(parser.head(read));
        assertTrue(parser.body(read, AnswerParserTest::skip));
        assertEquals(40, read.position(), "the next answer's bytes are left where they are");
    }

    @Test
    void malformedAnswersFailAsMalformedWithTheirReason() {
        String ok = "HTTP/1.1 200 OK\r\n";
        String chunked = ok + "Transfer-Encoding: chunked\r\n\r\n";
        List<List<String>> cases = List.of(
                List.of("HTTP/1.1 two hundred OK\r\n\r\n", "the answer's status line is not HTTP/1.1"),
                List.of("HTTP/2 200 OK\r\n\r\n", "the answer's status line is not HTTP/1.1"),
                List.of("HTTP/1.1 600 Beyond\r\n\r\n", "the answer's status line is not HTTP/1.1"),
                List.of("HTTP/1.1 20 OK\r\n\r\n", "the answer's status line is not HTTP/1.1"),
                List.of("HTTP/1.1 200 OK\rX\r\n\r\n", "the answer's status line is not HTTP/1.1"),
                List.of("HTTP/1.1 200 OK\nContent-Length: 0\n\n", "a line of the answer's head ends without CR"),
                List.of(ok + "Content-Length: 2\r\nContent-Length: 2\r\n\r\nok", "more than one Content-Length"),
                List.of(ok + "Content-Length: 2\r\nContent-Length: 3\r\n\r\nok", "more than one Content-Length"),
                List.of(ok + "Content-Length: 2, 2\r\n\r\nok", "a Content-Length that is not a length"),
                List.of(ok + "Content-Length: -1\r\n\r\n", "a Content-Length that is not a length"),
                List.of(ok + "Content-Length: 1234567890123456789\r\n\r\n", "a Content-Length that is not a length"),
                List.of(ok + "Transfer-Encoding: chunked\r\nContent-Length: 2\r\n\r\n",
                        "both a Transfer-Encoding and a Content-Length"),
                List.of("HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n",
                        "an HTTP/1.0 answer with a Transfer-Encoding"),
                List.of(ok + "Transfer-Encoding: chunked, gzip, chunked\r\n\r\n", "a transfer coding after chunked"),
                List.of("HTTP/1.1 101 Switching Protocols\r\nUpgrade: h2c\r\n\r\n",
                        "a switch of protocols nobody asked for"),
                List.of(ok + "X-Folded: a\r\n b\r\n\r\n", "a folded header line"),
                List.of(ok + "Bad Name: x\r\n\r\n", "a header line that is not a name, a colon and a value"),
                List.of(ok + "Name : x\r\n\r\n", "a header line that is not a name, a colon and a value"),
                List.of(ok + "X-Nul: a\u0000b\r\n\r\n", "a header value with a control character"),
                List.of(ok + "X-Cr: a\rb\r\n\r\n", "a CR alone in a header line"),
                List.of(ok + "X-Long: " + "v".repeat(AnswerParser.MAX_HEAD_BYTES) + "\r\n\r\n",
                        "the answer's head is longer than 65536 bytes"),
                List.of(ok + "X: y\r\n".repeat(AnswerParser.MAX_HEADER_COUNT + 1) + "\r\n",
                        "more than 256 header lines"),
                List.of(chunked + "zz\r\n", "a chunk size that is not hexadecimal"),
                List.of(chunked + ";x\r\n", "a chunk size that is not hexadecimal"),
                List.of(chunked + "5 6\r\nhello\r\n", "a chunk size that is not hexadecimal"),
                List.of(chunked + "5\t x\r\nhello\r\n", "a chunk size that is not hexadecimal"),
                List.of(chunked + "1234567890abcdef\r\n", "a chunk size of more than 15 digits"),
                List.of(chunked + "4\r\nabcde\r\n", "a chunk's data is longer than its size"),
                List.of(chunked + "4\r\nabcd\rx", "a chunk's data ends without CRLF"),
                List.of(chunked + "4\rabcd", "a chunk size line ends without LF"),
                List.of(chunked + "4;a\u0001b\r\n", "a bad chunk extension"),
                List.of(chunked + "0\r\nno colon\r\n\r\n", "a header line that is not a name, a colon and a value"),
                List.of(chunked + "0\r\nT: a\u0000\r\n\r\n", "a trailer value with a control character"),
                List.of(chunked + "0\r\nT: a\r\r\n", "a trailer line ends without LF"));
        Random random = new Random(9112);
        for (List<String> each : cases) {
            byte[] answer = each.get(0).getBytes(StandardCharsets.ISO_8859_1);
            List<String> expected = List.of("MALFORMED: the answer is not well-formed HTTP/1.1: " + each.get(1));
            List<String> whole = outcome(answer, false, new int[] {answer.length});
            assertEquals(expected, whole.subList(whole.size() - 1, whole.size()), each.get(0));
            assertEquals(whole, outcome(answer, false, bytewise(answer.length)), each.get(0));
            assertEquals(whole, outcome(answer, false, randomCuts(answer.length, random)), each.get(0));
        }
    }

    @Test
    void everyCutOfAMutatedAnswerEndsOrFailsAlike() {
        Random random = new Random(20261130);
        String alphabet = " \t\r\n:;,\"\u0000\u007f\u00ffAaZzFf0129-HTP/.OK";
        int failed = 0;
        int ended = 0;
        for (int round = 0; round < 2000 * SEEDS.size(); round++) {
            Seed seed = SEEDS.get(round % SEEDS.size());
            String mutated = Mutations.of(seed.answer(), alphabet, random);
            byte[] answer = mutated.getBytes(StandardCharsets.ISO_8859_1);
            List<String> whole = outcome(answer, seed.head(), new int[] {answer.length});
            String last = whole.getLast();
            failed += last.startsWith("MALFORMED") ? 1 : 0;
            ended += last.startsWith("ended") ? 1 : 0;
            assertEquals(whole, outcome(answer, seed.head(), bytewise(answer.length)), mutated);
            assertEquals(whole, outcome(answer, seed.head(), randomCuts(answer.length, random)), mutated);
        }
        // The mutations must reach both the failures and the answers that still end, or the comparison says little.
        assertTrue(failed > 5000, "failed " + failed);
        assertTrue(ended > 2000, "ended " + ended);
    }

    /** What the parser makes of {@code answer} read in {@code cuts}: heads, the body, and where it ended or failed. */
    private static List<String> outcome(byte[] answer, boolean head, int[] cuts) {
        AnswerParser parser = new AnswerParser();
        parser.start(head);
        List<String> outcome = new ArrayList<>();
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        boolean inBody = false;
        int offset = 0;
        try {
            for (int cut : cuts) {
                ByteBuffer read = ByteBuffer.allocateDirect(cut).put(answer, offset, cut).flip();
                int readAt = offset;
                offset += cut;
                while (true) {
                    if (!inBody) {
                        if (!parser.head(read)) {
                            break;
                        }
                        if (parser.interim()) {
                            outcome.add("interim " + parser.status());
                            parser.start(head);
                            continue;
                        }
                        inBody = true;
                        outcome.add(parser.status() + " declared " + parser.declaredLength() + " "
                                + (parser.keepAlive() ? "keep-alive" : "close") + " "
                                + parser.headers().toString().replace('\n', '|'));
                    }
                    if (parser.body(read, (buffer, count) -> {
                        byte[] piece = new byte[count];
                        buffer.get(piece);
                        body.writeBytes(piece);
                        return true;
                    })) {
                        outcome.add("body " + body.toString(StandardCharsets.ISO_8859_1));
                        outcome.add("ended at " + (readAt + read.position()));
                        return outcome;
                    }
                    if (!read.hasRemaining()) {
                        break;
                    }
                }
            }
        } catch (UpstreamException e) {
            outcome.add(e.kind() + ": " + e.getMessage());
            return outcome;
        }
        outcome.add(inBody ? "body so far " + body.toString(StandardCharsets.ISO_8859_1)
                + (parser.endsAtClose() ? ", ends at the close" : "") : "in a head");
        return outcome;
    }

    private static boolean skip(ByteBuffer buffer, int count) {
        buffer.position(buffer.position() + count);
        return true;
    }


}
