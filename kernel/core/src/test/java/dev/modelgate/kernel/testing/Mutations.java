package dev.modelgate.kernel.testing;

import java.util.Arrays;
import java.util.Random;

/**
 * Random small edits of a text, for tests that check a fast path against an oracle on many near-valid inputs, and
 * the ways to cut an input into the reads that feed an incremental parser.
 */
public final class Mutations {

    private Mutations() {
    }

    /** {@code seed} with one to three characters deleted, inserted or replaced, new ones from {@code alphabet}. */
    public static String of(String seed, String alphabet, Random random) {
        StringBuilder text = new StringBuilder(seed);
        for (int edits = 1 + random.nextInt(3); edits > 0 && !text.isEmpty(); edits--) {
            int at = random.nextInt(text.length());
            char c = alphabet.charAt(random.nextInt(alphabet.length()));
            switch (random.nextInt(3)) {
                case 0 -> text.deleteCharAt(at);
                case 1 -> text.insert(at, c);
                default -> text.setCharAt(at, c);
            }
        }
        return text.toString();
    }

    /** One byte per read: every place a parser can be stopped and resumed. */
    public static int[] bytewise(int length) {
        int[] cuts = new int[length];
        Arrays.fill(cuts, 1);
        return cuts;
    }

    /** Reads of 1 to 40 bytes, summing to {@code length}. */
    public static int[] randomCuts(int length, Random random) {
        int[] cuts = new int[length];
        int count = 0;
        for (int left = length; left > 0; count++) {
            cuts[count] = Math.min(left, 1 + random.nextInt(40));
            left -= cuts[count];
        }
        return Arrays.copyOf(cuts, count);
    }
}
