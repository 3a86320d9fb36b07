package dev.modelgate.plugins.jwt;

import com.auth0.jwt.JWT;
import com.auth0.jwt.JWTCreator;
import com.auth0.jwt.algorithms.Algorithm;
import com.fasterxml.jackson.databind.JsonNode;
import dev.modelgate.spi.CommandProvider;
import dev.modelgate.spi.ConfigNode;
import java.io.IOException;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.PrivateKey;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The {@code token} command: mints a development JWT that the configuration's first {@code jwt} middleware (the
 * global {@code middlewares}, then each route's) accepts, and prints it alone on stdout.
 *
 * <pre>
 * java -jar gateway.jar token --sub alice --roles predict --ttl 1h [--config FILE]
 * </pre>
 *
 * <p>HS* signs with the configured secret; RS* and ES* need {@code --private-key FILE} ("BEGIN PRIVATE KEY" PEM),
 * and {@code --kid} when the keys come from a JWKS. The token carries {@code sub}, the roles under the configured
 * roles claim, {@code iat}, {@code exp} and the configured {@code iss} and {@code aud}.
 */
public final class TokenCommandProvider implements CommandProvider {

    private static final String USAGE = "token --sub NAME [--roles A,B] [--ttl 1h] [--private-key FILE] [--kid ID]";
    private static final Set<String> FLAGS = Set.of("--sub", "--roles", "--ttl", "--private-key", "--kid");
    private static final Pattern TTL = Pattern.compile("(\\d+)([smhd])");

    @Override
    public String type() {
        return "token";
    }

    @Override
    public String summary() {
        return USAGE + ": print a development JWT for the configured jwt middleware";
    }

    @Override
    public int run(Invocation invocation) {
        Map<String, String> flags;
        Duration ttl;
        try {
            flags = flags(invocation.args());
            ttl = ttl(flags.getOrDefault("--ttl", "1h"));
        } catch (IllegalArgumentException e) {
            invocation.err().println("modelgate token: " + e.getMessage());
            invocation.err().println("usage: " + USAGE);
            invocation.err().println("  --ttl is a positive number of s, m, h or d (default 1h); --roles is "
                    + "comma-separated");
            return 2;
        }
        Located found = firstJwt(invocation.config().raw());
        if (found == null) {
            invocation.err().println("modelgate token: no jwt middleware in the configuration (looked in "
                    + "middlewares and in each route's middlewares)");
            return 1;
        }
        List<String> problems = new ArrayList<>();
        JwtSettings settings = JwtSettings.read(ConfigNode.root(found.node(), problems));
        if (!problems.isEmpty() || settings == null) {
            problems.forEach(problem -> invocation.err().println("modelgate token: " + found.path() + "." + problem));
            return 1;
        }
        Algorithm signing;
        try {
            signing = signing(settings, flags.get("--private-key"));
        } catch (IllegalArgumentException e) {
            invocation.err().println("modelgate token: " + e.getMessage());
            return 1;
        }
        Instant now = invocation.clock().instant();
        JWTCreator.Builder token = JWT.create()
                .withSubject(flags.get("--sub"))
                .withArrayClaim(settings.rolesClaim(), roles(flags.getOrDefault("--roles", "")))
                .withIssuedAt(now)
                .withExpiresAt(now.plus(ttl));
        if (!settings.issuers().isEmpty()) {
            token.withIssuer(settings.issuers().getFirst());
        }
        if (!settings.audiences().isEmpty()) {
            token.withAudience(settings.audiences().toArray(String[]::new));
        }
        if (flags.containsKey("--kid")) {
            token.withKeyId(flags.get("--kid"));
        }
        invocation.out().println(token.sign(signing));
        return 0;
    }

    /**
     * {@code --name value} or {@code --name=value} pairs, {@code --sub} among them.
     *
     * @throws IllegalArgumentException naming the argument that is wrong and why
     */
    private static Map<String, String> flags(List<String> args) {
        Map<String, String> flags = new HashMap<>();
        for (int i = 0; i < args.size(); i++) {
            String arg = args.get(i);
            int equals = arg.indexOf('=');
            String name = equals < 0 ? arg : arg.substring(0, equals);
            if (!FLAGS.contains(name)) {
                throw new IllegalArgumentException((arg.startsWith("-") ? "unknown option '" : "unexpected argument '")
                        + arg + "'; options: " + String.join(", ", new java.util.TreeSet<>(FLAGS)));
            }
            String value;
            if (equals >= 0) {
                value = arg.substring(equals + 1);
            } else if (i + 1 < args.size()) {
                value = args.get(++i);
            } else {
                throw new IllegalArgumentException(name + " needs a value");
            }
            flags.put(name, value);
        }
        if (flags.getOrDefault("--sub", "").isBlank()) {
            throw new IllegalArgumentException("--sub NAME is required: the token's subject");
        }
        return flags;
    }

    private static Duration ttl(String text) {
        Matcher matcher = TTL.matcher(text.trim());
        if (!matcher.matches() || Long.parseLong(matcher.group(1)) == 0) {
            throw new IllegalArgumentException("--ttl must be a positive number of s, m, h or d, such as 30m or 1h,"
                    + " but was '" + text + "'");
        }
        long amount = Long.parseLong(matcher.group(1));
        return switch (matcher.group(2)) {
            case "s" -> Duration.ofSeconds(amount);
            case "m" -> Duration.ofMinutes(amount);
            case "h" -> Duration.ofHours(amount);
            default -> Duration.ofDays(amount);
        };
    }

    private static String[] roles(String text) {
        return Arrays.stream(text.split(",")).map(String::strip).filter(role -> !role.isEmpty())
                .toArray(String[]::new);
    }

    /** Where the first jwt middleware is configured: its path and node. */
    private record Located(String path, JsonNode node) {
    }

    private static Located firstJwt(JsonNode root) {
        Located global = firstJwt(root.path("middlewares"), "middlewares");
        if (global != null) {
            return global;
        }
        JsonNode routes = root.path("routes");
        for (int i = 0; i < routes.size(); i++) {
            Located found = firstJwt(routes.get(i).path("middlewares"), "routes[" + i + "].middlewares");
            if (found != null) {
                return found;
            }
        }
        return null;
    }

    private static Located firstJwt(JsonNode middlewares, String path) {
        for (int i = 0; i < middlewares.size(); i++) {
            if ("jwt".equals(middlewares.get(i).path("type").asText())) {
                return new Located(path + "[" + i + "]", middlewares.get(i));
            }
        }
        return null;
    }

    /** @throws IllegalArgumentException with a message for the user when no signing key can be had */
    private static Algorithm signing(JwtSettings settings, String privateKeyFile) {
        KeyAlgorithm algorithm = settings.algorithm();
        if (settings.secret() != null) {
            return algorithm.hmac(settings.secret());
        }
        if (privateKeyFile == null) {
            throw new IllegalArgumentException(algorithm + " tokens are signed with a private key: add "
                    + "--private-key FILE (a \"BEGIN PRIVATE KEY\" PEM file)");
        }
        PrivateKey key;
        try {
            key = Pem.privateKey(Path.of(privateKeyFile), algorithm.keyFactoryName());
        } catch (IOException | InvalidPathException e) {
            throw new IllegalArgumentException("cannot read '" + privateKeyFile + "': " + e.getMessage());
        } catch (GeneralSecurityException e) {
            throw new IllegalArgumentException("'" + privateKeyFile + "' is not an " + algorithm.keyFactoryName()
                    + " private key, as " + algorithm + " needs");
        }
        String unsuitable = algorithm.unsuitable(key);
        if (unsuitable != null) {
            throw new IllegalArgumentException(unsuitable);
        }
        return algorithm.signing(key);
    }
}
