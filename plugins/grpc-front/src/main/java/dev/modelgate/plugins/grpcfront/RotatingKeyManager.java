package dev.modelgate.plugins.grpcfront;

import java.net.Socket;
import java.security.Principal;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.atomic.AtomicInteger;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.X509ExtendedKeyManager;

/**
 * The gRPC listener's server certificate and key, which a reload replaces ({@link #use}) while the listener runs.
 * A handshake asks for an alias, then for that alias's chain and key in separate calls: the alias names the
 * generation it came from, so a handshake that straddles a rotation still gets a chain and a key that match. Only the
 * server side is served; the listener never acts as a TLS client.
 */
final class RotatingKeyManager extends X509ExtendedKeyManager {

    private final AtomicInteger generation = new AtomicInteger();
    /** The current generation, and those whose handshakes may still be asking; older ones are dropped. */
    private final ConcurrentMap<Integer, X509ExtendedKeyManager> generations = new ConcurrentHashMap<>();

    RotatingKeyManager(X509ExtendedKeyManager first) {
        generations.put(0, first);
    }

    /** New handshakes present what {@code keys} holds. */
    void use(X509ExtendedKeyManager keys) {
        int next = generation.get() + 1;
        generations.put(next, keys);
        generation.set(next);
        generations.keySet().removeIf(number -> number < next - 1);
    }

    @Override
    public String chooseEngineServerAlias(String keyType, Principal[] issuers, SSLEngine engine) {
        int number = generation.get();
        return tagged(number, generations.get(number).chooseEngineServerAlias(keyType, issuers, engine));
    }

    @Override
    public String chooseServerAlias(String keyType, Principal[] issuers, Socket socket) {
        int number = generation.get();
        return tagged(number, generations.get(number).chooseServerAlias(keyType, issuers, socket));
    }

    @Override
    public String[] getServerAliases(String keyType, Principal[] issuers) {
        int number = generation.get();
        String[] aliases = generations.get(number).getServerAliases(keyType, issuers);
        if (aliases == null) {
            return null;
        }
        String[] tagged = new String[aliases.length];
        for (int i = 0; i < aliases.length; i++) {
            tagged[i] = tagged(number, aliases[i]);
        }
        return tagged;
    }

    @Override
    public X509Certificate[] getCertificateChain(String alias) {
        X509ExtendedKeyManager keys = keysOf(alias);
        return keys == null ? null : keys.getCertificateChain(untagged(alias));
    }

    @Override
    public PrivateKey getPrivateKey(String alias) {
        X509ExtendedKeyManager keys = keysOf(alias);
        return keys == null ? null : keys.getPrivateKey(untagged(alias));
    }

    @Override
    public String[] getClientAliases(String keyType, Principal[] issuers) {
        return null;
    }

    @Override
    public String chooseClientAlias(String[] keyType, Principal[] issuers, Socket socket) {
        return null;
    }

    private static String tagged(int number, String alias) {
        return alias == null ? null : number + ":" + alias;
    }

    private static String untagged(String alias) {
        return alias.substring(alias.indexOf(':') + 1);
    }

    private X509ExtendedKeyManager keysOf(String alias) {
        int colon = alias == null ? -1 : alias.indexOf(':');
        if (colon < 0) {
            return null;
        }
        try {
            return generations.get(Integer.parseInt(alias.substring(0, colon)));
        } catch (NumberFormatException e) {
            return null;
        }
    }
}
