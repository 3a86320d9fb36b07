package dev.modelgate.kernel.testing;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.stream.Collectors;

/**
 * One scrape of the admin listener's {@code /metrics} (Prometheus text format), read into samples: tests compare a
 * metric's name, labels (in any order) and value, not the text's layout. Asking for a sample that is not there fails
 * the test, naming what the metric does have, so a misspelt name cannot pass as a zero.
 */
public final class MetricScrape {

    /** One sample line: {@code name{label="value",...} value}. */
    public record Sample(String name, Map<String, String> labels, double value) {

        /** Reads {@code name{label="value",...} value [timestamp]}. */
        static Sample parse(String line) {
            int brace = line.indexOf('{');
            int space = line.indexOf(' ');
            if (brace < 0 || space >= 0 && space < brace) {
                return new Sample(line.substring(0, space), Map.of(), number(line.substring(space + 1)));
            }
            Map<String, String> labels = new TreeMap<>();
            int at = brace + 1;
            while (line.charAt(at) != '}') {
                int equals = line.indexOf("=\"", at);
                String name = line.substring(at, equals).strip();
                StringBuilder value = new StringBuilder();
                at = equals + 2;
                for (char c; (c = line.charAt(at)) != '"'; at++) {
                    if (c == '\\') {
                        char escaped = line.charAt(++at);
                        value.append(escaped == 'n' ? '\n' : escaped);
                    } else {
                        value.append(c);
                    }
                }
                labels.put(name, value.toString());
                at++;
                if (line.charAt(at) == ',') {
                    at++;
                }
            }
            return new Sample(line.substring(0, brace), labels, number(line.substring(at + 1).strip()));
        }

        private static double number(String valueAndTimestamp) {
            String value = valueAndTimestamp.strip().split(" ")[0];
            return switch (value) {
                case "+Inf" -> Double.POSITIVE_INFINITY;
                case "-Inf" -> Double.NEGATIVE_INFINITY;
                default -> Double.parseDouble(value);
            };
        }

        /** Whether this is {@code other}'s series: same name, same labels. */
        boolean sameSeries(Sample other) {
            return name.equals(other.name) && labels.equals(other.labels);
        }

        /** {@code name{label="value",...}}, without the value. */
        String series() {
            return labels.isEmpty() ? name : name + labels.entrySet().stream()
                    .map(label -> label.getKey() + "=\"" + label.getValue() + "\"")
                    .collect(Collectors.joining(",", "{", "}"));
        }

        @Override
        public String toString() {
            return series() + " " + value;
        }
    }

    private final String text;
    private final List<Sample> samples;

    private MetricScrape(String text, List<Sample> samples) {
        this.text = text;
        this.samples = samples;
    }

    /** Reads a scrape's text; comment lines ({@code # HELP}, {@code # TYPE}, ...) are skipped. */
    public static MetricScrape parse(String text) {
        List<Sample> samples = new ArrayList<>();
        for (String line : text.lines().toList()) {
            if (!line.isBlank() && !line.startsWith("#")) {
                samples.add(Sample.parse(line));
            }
        }
        return new MetricScrape(text, List.copyOf(samples));
    }

    public String text() {
        return text;
    }

    public List<Sample> samples() {
        return samples;
    }

    /** The sample of {@code series} ({@code name} or {@code name{label="value",...}}, without a value), if any. */
    public Optional<Sample> find(String series) {
        return find(Sample.parse(series + " 0"));
    }

    /**
     * The value of {@code series} ({@code name} or {@code name{label="value",...}}, labels in any order).
     *
     * @throws AssertionError when the scrape has no such series, naming the series of that name it has
     */
    public double value(String series) {
        return value(Sample.parse(series + " 0"));
    }

    /** {@link #value(String)} of {@code name} with {@code labels}. */
    public double value(String name, Map<String, String> labels) {
        return value(new Sample(name, new TreeMap<>(labels), 0));
    }

    private Optional<Sample> find(Sample series) {
        return samples.stream().filter(series::sameSeries).findFirst();
    }

    private double value(Sample series) {
        return find(series).orElseThrow(() -> missing(series)).value();
    }

    /** Whether the scrape holds {@code sample}, {@code name{labels} value}, with the value compared as a number. */
    public boolean holds(String sample) {
        Sample wanted = Sample.parse(sample);
        return samples.stream().anyMatch(s -> s.sameSeries(wanted) && Double.compare(s.value(), wanted.value()) == 0);
    }

    /** Whether any sample is named {@code name}. */
    public boolean has(String name) {
        return samples.stream().anyMatch(sample -> sample.name().equals(name));
    }

    private AssertionError missing(Sample series) {
        List<String> sameName = samples.stream().filter(sample -> sample.name().equals(series.name()))
                .map(Sample::toString).toList();
        return new AssertionError("no metric " + series.series() + (sameName.isEmpty()
                ? "; no sample is named " + series.name() : "; its samples: " + sameName));
    }
}
