package dev.modelgate.plugins.pool;

import dev.modelgate.spi.Headers;
import dev.modelgate.spi.Principal;
import java.util.List;

/**
 * Sends the requests it matches to its own instances: those whose request header {@code header}, or whose
 * principal's claim {@code claim}, equals one of {@code values} exactly. Rules are tried in configuration order and
 * the first match wins; a request no rule matches goes to the backend's default instances.
 *
 * <p>Immutable and thread-safe.
 *
 * @param header the request header compared, or {@code null} when the rule compares a claim
 * @param claim the {@link Principal#claims()} entry compared, or {@code null} when the rule compares a header
 * @param values the values that match, compared case-sensitively
 * @param instances where matching requests go
 */
record RoutingRule(String header, String claim, List<String> values, List<Instance> instances) {

    RoutingRule {
        if ((header == null) == (claim == null)) {
            throw new IllegalArgumentException("a rule compares either a header or a claim");
        }
        values = List.copyOf(values);
        instances = List.copyOf(instances);
    }

    /**
     * Whether a request with {@code headers} from {@code principal} matches. An anonymous request ({@code principal}
     * {@code null}) has no claims, so matches no claim rule.
     */
    boolean matches(Headers headers, Principal principal) {
        String value;
        if (header != null) {
            value = headers.first(header);
        } else {
            value = principal == null ? null : principal.claims().get(claim);
        }
        return value != null && values.contains(value);
    }
}
