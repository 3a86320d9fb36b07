package dev.modelgate.spi;

import java.util.Map;
import java.util.Set;

/**
 * Who a request authenticated as. Authentication middlewares ({@code jwt}, {@code api-key}) set it with
 * {@code exchange.setAttribute(Principal.ATTRIBUTE, ...)}; authorisation, rate limiting, the access log and backends
 * (as {@code X-Modelgate-Subject} and {@code X-Modelgate-Roles}) read it.
 *
 * @param subject the authenticated name: a token's {@code sub}, an API key's name
 * @param roles roles or scopes granted, from the configured claim or the key's entry
 * @param scheme how it authenticated: {@code jwt}, {@code api-key}
 * @param claims other string-valued facts about the principal (a token's {@code region}, {@code group} claims),
 *     for routing rules and rate-limit keys; empty when the scheme has none
 */
public record Principal(String subject, Set<String> roles, String scheme, Map<String, String> claims) {

    /** Where authentication middlewares store the principal. */
    public static final Attribute<Principal> ATTRIBUTE = Attribute.named("principal");

    public Principal {
        roles = Set.copyOf(roles);
        claims = Map.copyOf(claims);
    }

    /** A principal with no claims beyond subject and roles. */
    public Principal(String subject, Set<String> roles, String scheme) {
        this(subject, roles, scheme, Map.of());
    }

    public boolean hasRole(String role) {
        return roles.contains(role);
    }
}
