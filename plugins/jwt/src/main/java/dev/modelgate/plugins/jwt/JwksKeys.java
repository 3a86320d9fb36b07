package dev.modelgate.plugins.jwt;

import com.auth0.jwt.algorithms.Algorithm;
import com.fasterxml.jackson.databind.JsonNode;
import dev.modelgate.spi.Json;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.math.BigInteger;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.security.AlgorithmParameters;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.PublicKey;
import java.security.spec.ECGenParameterSpec;
import java.security.spec.ECParameterSpec;
import java.security.spec.ECPoint;
import java.security.spec.ECPublicKeySpec;
import java.security.spec.RSAPublicKeySpec;
import java.time.Clock;
import java.time.Instant;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Flow;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Function;

/**
 * The keys of a JWKS endpoint, fetched when first needed, cached, and fetched again when the cache is older than
 * {@code jwks-cache-ttl} or a token names a key id the cache lacks (key rotation). A fetch starts at least
 * {@code jwks-refresh-interval} after the last one ended, whatever the tokens say, so a flood of made-up key ids
 * costs the authorisation server one request per interval however slowly it answers. When a fetch fails the keys
 * fetched before stay in use.
 *
 * <p>Only keys for the configured algorithm are kept: matching {@code kty}, {@code crv} for EC, {@code alg} when the
 * key names one, never {@code use: enc}, always with a {@code kid}. Thread-safe. A fetch, body included, takes at most
 * {@code jwks-timeout}. A request that needs a fetch waits for it, and takes the answer of a fetch that ended while it
 * waited rather than starting another; while a stale but usable key is being refreshed, other requests go on with it.
 */
final class JwksKeys implements KeySource, AutoCloseable {

    /** A JWKS is a few kilobytes; anything far larger is not one. */
    private static final int MAX_DOCUMENT_BYTES = 1 << 20;

    private record Snapshot(Map<String, Lookup> byKid, Instant fetchedAt) {
    }

    private final JwtSettings.JwksSettings settings;
    private final KeyAlgorithm algorithm;
    private final Function<Algorithm, com.auth0.jwt.JWTVerifier> verifiers;
    private final Clock clock;
    private final System.Logger logger;
    private final HttpClient client;
    private final HttpRequest request;
    private final ReentrantLock fetching = new ReentrantLock();
    private volatile Snapshot snapshot;
    /** When the last fetch ended, whether it brought keys or not. Written under {@link #fetching}. */
    private volatile Instant lastFetchEnded;
    /** How many fetches have ended. Written under {@link #fetching}. */
    private volatile long fetchesEnded;

    /**
     * @param verifiers builds the verifier of one key, with the configured claim checks
     */
    JwksKeys(JwtSettings.JwksSettings settings, KeyAlgorithm algorithm,
            Function<Algorithm, com.auth0.jwt.JWTVerifier> verifiers, Clock clock, System.Logger logger) {
        this.settings = settings;
        this.algorithm = algorithm;
        this.verifiers = verifiers;
        this.clock = clock;
        this.logger = logger;
        this.client = HttpClient.newBuilder()
                .connectTimeout(settings.timeout())
                .followRedirects(HttpClient.Redirect.NEVER)
                .build();
        this.request = HttpRequest.newBuilder(settings.url())
                .timeout(settings.timeout())
                .header("Accept", "application/json")
                .GET()
                .build();
    }

    @Override
    public Lookup find(String kid) {
        if (kid == null) {
            return Lookup.NO_KEY_ID;
        }
        long seen = fetchesEnded;
        Snapshot current = snapshot;
        Lookup found = current == null ? null : current.byKid().get(kid);
        if (found != null && clock.instant().isBefore(current.fetchedAt().plus(settings.cacheTtl()))) {
            return found;
        }
        if (found != null) {
            // Stale but usable: one request refreshes, the others carry on with the key they have.
            if (fetching.tryLock()) {
                refreshUnderLock(seen);
            }
        } else {
            fetching.lock();
            refreshUnderLock(seen);
        }
        return lookup(kid);
    }

    private Lookup lookup(String kid) {
        Snapshot current = snapshot;
        if (current == null) {
            return Lookup.KEYS_UNAVAILABLE;
        }
        Lookup found = current.byKid().get(kid);
        return found == null ? Lookup.UNKNOWN_KEY_ID : found;
    }

    /**
     * Fetches unless a fetch ended since the caller read {@code seen} from {@link #fetchesEnded}, or the last one
     * ended less than the refresh interval ago; then releases the lock.
     */
    private void refreshUnderLock(long seen) {
        try {
            // Requests queued behind a fetch take its answer, found or not: one fetch each would hammer the
            // endpoint whenever waiting for the lock outlasts the refresh interval.
            if (fetchesEnded != seen) {
                return;
            }
            Instant last = lastFetchEnded;
            if (last != null && clock.instant().isBefore(last.plus(settings.refreshInterval()))) {
                return;
            }
            Map<String, Lookup> keys = null;
            try {
                keys = fetch();
            } finally {
                // Counted from the end, so a slow or failing endpoint is not asked again the moment it answers.
                Instant ended = clock.instant();
                if (keys != null) {
                    snapshot = new Snapshot(keys, ended);
                }
                lastFetchEnded = ended;
                fetchesEnded++;
            }
        } finally {
            fetching.unlock();
        }
    }

    /** The keys the endpoint publishes now, or {@code null} after logging why there are none. */
    private Map<String, Lookup> fetch() {
        CompletableFuture<HttpResponse<byte[]>> pending =
                client.sendAsync(request, info -> new LimitedBody(MAX_DOCUMENT_BYTES));
        HttpResponse<byte[]> response;
        try {
            // The request timeout ends with the response headers; this deadline also covers a body sent slowly.
            response = pending.get(settings.timeout().toNanos(), TimeUnit.NANOSECONDS);
        } catch (TimeoutException e) {
            pending.cancel(true);
            return failed("no complete answer within " + settings.timeout());
        } catch (ExecutionException e) {
            return failed("cannot fetch keys: " + e.getCause());
        } catch (InterruptedException e) {
            pending.cancel(true);
            Thread.currentThread().interrupt();
            return failed("interrupted while fetching keys");
        }
        if (response.statusCode() != 200) {
            return failed("the JWKS endpoint answered " + response.statusCode());
        }
        JsonNode keys;
        try {
            keys = Json.MAPPER.readTree(response.body()).path("keys");
        } catch (IOException e) {
            return failed("the JWKS document is not JSON");
        }
        if (!keys.isArray()) {
            return failed("the JWKS document has no \"keys\" list");
        }
        Map<String, Lookup> byKid = new HashMap<>();
        for (JsonNode jwk : keys) {
            PublicKey key = publicKey(jwk);
            if (key != null) {
                byKid.putIfAbsent(jwk.path("kid").asText(), Lookup.found(verifiers.apply(algorithm.verifying(key))));
            }
        }
        if (byKid.isEmpty()) {
            logger.log(System.Logger.Level.WARNING, settings.url() + ": no " + algorithm + " signing key with a kid");
        }
        return Map.copyOf(byKid);
    }

    private Map<String, Lookup> failed(String why) {
        logger.log(System.Logger.Level.WARNING, settings.url() + ": " + why
                + (snapshot == null ? "; no keys cached, tokens are refused" : "; using the keys fetched before"));
        return null;
    }

    /** The key {@code jwk} describes, or {@code null} when it is not a signing key for the configured algorithm. */
    PublicKey publicKey(JsonNode jwk) {
        String kid = jwk.path("kid").asText("");
        boolean fits = !kid.isEmpty()
                && algorithm.jwkType().equals(jwk.path("kty").asText())
                && !"enc".equals(jwk.path("use").asText())
                && (!jwk.hasNonNull("alg") || algorithm.name().equals(jwk.path("alg").asText()))
                && (algorithm.jwkCurve() == null || algorithm.jwkCurve().equals(jwk.path("crv").asText()));
        if (!fits) {
            return null;
        }
        try {
            PublicKey key = algorithm.family() == KeyAlgorithm.Family.RSA ? rsa(jwk) : ec(jwk);
            String unsuitable = algorithm.unsuitable(key);
            if (unsuitable != null) {
                logger.log(System.Logger.Level.WARNING, settings.url() + ": key " + kid + " skipped: " + unsuitable);
                return null;
            }
            return key;
        } catch (GeneralSecurityException | IllegalArgumentException e) {
            logger.log(System.Logger.Level.WARNING, settings.url() + ": key " + kid + " skipped: " + e.getMessage());
            return null;
        }
    }

    private static PublicKey rsa(JsonNode jwk) throws GeneralSecurityException {
        RSAPublicKeySpec spec = new RSAPublicKeySpec(number(jwk, "n"), number(jwk, "e"));
        return KeyFactory.getInstance("RSA").generatePublic(spec);
    }

    private PublicKey ec(JsonNode jwk) throws GeneralSecurityException {
        AlgorithmParameters parameters = AlgorithmParameters.getInstance("EC");
        parameters.init(new ECGenParameterSpec(algorithm.curveName()));
        ECPoint point = new ECPoint(number(jwk, "x"), number(jwk, "y"));
        ECPublicKeySpec spec = new ECPublicKeySpec(point, parameters.getParameterSpec(ECParameterSpec.class));
        return KeyFactory.getInstance("EC").generatePublic(spec);
    }

    /** The unsigned big-endian number in base64url member {@code name} (RFC 7518, section 2). */
    private static BigInteger number(JsonNode jwk, String name) {
        String text = jwk.path(name).asText("");
        if (text.isEmpty()) {
            throw new IllegalArgumentException("no '" + name + "'");
        }
        return new BigInteger(1, Base64.getUrlDecoder().decode(text));
    }

    @Override
    public void close() {
        client.close();
    }

    /**
     * Collects a body of at most {@code limit} bytes. A longer one fails as soon as it shows, and the rest is not read:
     * the subscription is cancelled, which drops the connection.
     */
    private static final class LimitedBody implements HttpResponse.BodySubscriber<byte[]> {

        private final int limit;
        private final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        private final CompletableFuture<byte[]> result = new CompletableFuture<>();
        private Flow.Subscription subscription;

        LimitedBody(int limit) {
            this.limit = limit;
        }

        @Override
        public void onSubscribe(Flow.Subscription subscription) {
            this.subscription = subscription;
            subscription.request(Long.MAX_VALUE);
        }

        @Override
        public void onNext(List<ByteBuffer> buffers) {
            if (result.isDone()) {
                return;
            }
            for (ByteBuffer buffer : buffers) {
                if (buffer.remaining() > limit - bytes.size()) {
                    subscription.cancel();
                    result.completeExceptionally(
                            new IOException("the JWKS document is larger than " + limit + " bytes"));
                    return;
                }
                byte[] chunk = new byte[buffer.remaining()];
                buffer.get(chunk);
                bytes.writeBytes(chunk);
            }
        }

        @Override
        public void onError(Throwable failure) {
            result.completeExceptionally(failure);
        }

        @Override
        public void onComplete() {
            result.complete(bytes.toByteArray());
        }

        @Override
        public CompletionStage<byte[]> getBody() {
            return result;
        }
    }
}
