package dev.modelgate.kernel.testing;

import java.util.Random;

/** Random small edits of a text, for tests that check a fast path against an oracle on many near-valid inputs. */
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
}
