package dev.modelgate.plugins.pool;

import static dev.modelgate.plugins.pool.BalancerTest.instance;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.modelgate.spi.Headers;
import dev.modelgate.spi.Principal;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

class RoutingRuleTest {

    private static final List<Instance> EU = List.of(instance(0, "eu-1", 1), instance(1, "eu-2", 1));
    private static final Headers NO_HEADERS = new Headers();

    private static Principal withClaims(Map<String, String> claims) {
        return new Principal("alice", Set.of("predict"), "jwt", claims);
    }

    @Test
    void aClaimRuleMatchesAPrincipalWhoseClaimEqualsOneOfItsValues() {
        RoutingRule rule = new RoutingRule(null, "region", List.of("eu", "eu-west"), EU);

        assertTrue(rule.matches(NO_HEADERS, withClaims(Map.of("region", "eu"))));
        assertTrue(rule.matches(NO_HEADERS, withClaims(Map.of("region", "eu-west"))));
        assertFalse(rule.matches(NO_HEADERS, withClaims(Map.of("region", "us"))));
        assertFalse(rule.matches(NO_HEADERS, withClaims(Map.of("region", "EU"))), "values compare exactly");
    }

    @Test
    void aClaimRuleMatchesNeitherAnAnonymousRequestNorAPrincipalWithoutTheClaim() {
        RoutingRule rule = new RoutingRule(null, "region", List.of("eu"), EU);

        assertFalse(rule.matches(NO_HEADERS, null));
        assertFalse(rule.matches(NO_HEADERS, withClaims(Map.of("group", "eu"))));
    }

    @Test
    void aClaimRuleIgnoresAHeaderOfTheSameName() {
        RoutingRule rule = new RoutingRule(null, "region", List.of("eu"), EU);

        assertFalse(rule.matches(new Headers().set("region", "eu"), withClaims(Map.of())));
    }

    @Test
    void aHeaderRuleComparesTheHeadersFirstValueWhateverItsCase() {
        RoutingRule rule = new RoutingRule("X-Device", null, List.of("ios"), EU);

        assertTrue(rule.matches(new Headers().set("x-device", "ios"), null));
        assertFalse(rule.matches(new Headers().add("X-Device", "android").add("X-Device", "ios"), null));
        assertFalse(rule.matches(NO_HEADERS, withClaims(Map.of("X-Device", "ios"))));
    }
}
