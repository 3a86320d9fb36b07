package dev.modelgate.spi;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

/**
 * Finds a request's client address behind trusted proxies: how the kernel gives {@link Exchange#clientAddress()}
 * with {@code server.trusted-proxies}, for the access log, the rate limiter and balancing alike. Immutable and
 * thread-safe.
 *
 * <p>{@code X-Forwarded-For} is read only when the connection comes from a trusted proxy, since anyone else can
 * write anything there. Then the list is walked from the right, the hop the trusted proxy added, over every trusted
 * address, and the first untrusted one is the client: entries further left came from the client itself and may be
 * forged. When every entry is trusted, the left-most is the client. An entry that is not an IP address stops the
 * walk too and is used as it is, since a trusted proxy put it there.
 */
public final class ClientAddress {

    /** Believes no proxy: the client is the connection's peer. */
    public static final ClientAddress PEER = new ClientAddress(List.of());

    /** An IP literal: four dotted numbers, or hex digits and colons (IPv6, possibly with an embedded IPv4). */
    private static final Pattern IPV4 = Pattern.compile("\\d{1,3}(\\.\\d{1,3}){3}");
    private static final Pattern IPV6 = Pattern.compile("[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*");

    /** One {@code address/prefix} block. */
    private record Cidr(byte[] network, int prefix) {

        boolean contains(byte[] address) {
            if (address.length != network.length) {
                return false;
            }
            int full = prefix / 8;
            for (int i = 0; i < full; i++) {
                if (address[i] != network[i]) {
                    return false;
                }
            }
            int rest = prefix % 8;
            int mask = (0xff << (8 - rest)) & 0xff;
            return rest == 0 || (address[full] & mask) == (network[full] & mask);
        }
    }

    private final List<Cidr> trustedProxies;

    private ClientAddress(List<Cidr> trustedProxies) {
        this.trustedProxies = List.copyOf(trustedProxies);
    }

    /**
     * The trusted proxies listed under {@code key} of {@code config} (addresses or CIDR blocks such as
     * {@code 10.0.0.0/8}); each entry that is neither is a problem of its own.
     */
    public static ClientAddress fromConfig(ConfigNode config, String key) {
        List<Cidr> cidrs = new ArrayList<>();
        List<String> entries = config.strings(key);
        for (int i = 0; i < entries.size(); i++) {
            try {
                cidrs.add(parseCidr(entries.get(i).strip()));
            } catch (IllegalArgumentException e) {
                config.problem(key + "[" + i + "]", "must be an address or a CIDR block such as "
                        + "10.0.0.0/8 or 2001:db8::/32: " + e.getMessage());
            }
        }
        return new ClientAddress(cidrs);
    }

    /**
     * Parses {@code 10.0.0.0/8}, {@code 2001:db8::/32} or a bare address (a block of one).
     *
     * @throws IllegalArgumentException naming what is wrong
     */
    private static Cidr parseCidr(String text) {
        int slash = text.indexOf('/');
        String address = slash < 0 ? text : text.substring(0, slash);
        byte[] bytes = parseAddress(address);
        if (bytes == null) {
            throw new IllegalArgumentException("'" + address + "' is not an IP address");
        }
        int prefix = bytes.length * 8;
        if (slash >= 0) {
            try {
                prefix = Integer.parseInt(text.substring(slash + 1));
            } catch (NumberFormatException e) {
                prefix = -1;
            }
            if (prefix < 0 || prefix > bytes.length * 8) {
                throw new IllegalArgumentException("the prefix length after '/' must be between 0 and "
                        + bytes.length * 8);
            }
        }
        return new Cidr(bytes, prefix);
    }

    /** The bytes of an IP literal, or {@code null} when {@code text} is not one; never looks a name up. */
    private static byte[] parseAddress(String text) {
        if (IPV4.matcher(text).matches()) {
            String[] parts = text.split("\\.");
            byte[] bytes = new byte[4];
            for (int i = 0; i < 4; i++) {
                int part = Integer.parseInt(parts[i]);
                if (part > 255) {
                    return null;
                }
                bytes[i] = (byte) part;
            }
            return bytes;
        }
        if (!IPV6.matcher(text).matches()) {
            return null;
        }
        try {
            // In brackets, InetAddress takes it as an IPv6 literal or fails, and never asks DNS; an IPv4-mapped
            // address comes back as IPv4.
            return InetAddress.getByName("[" + text + "]").getAddress();
        } catch (UnknownHostException e) {
            return null;
        }
    }

    /** The client address of a request from {@code peer} with {@code headers}, as text. */
    public String of(String peer, Headers headers) {
        if (trustedProxies.isEmpty() || !trusted(parseAddress(peer))) {
            return peer;
        }
        List<String> forwarded = headers.all("X-Forwarded-For");
        String client = peer;
        for (int i = forwarded.size() - 1; i >= 0; i--) {
            String[] hops = forwarded.get(i).split(",");
            for (int j = hops.length - 1; j >= 0; j--) {
                String hop = withoutPort(hops[j].strip());
                if (hop.isEmpty()) {
                    continue;
                }
                byte[] address = parseAddress(hop);
                if (!trusted(address)) {
                    return address == null ? hop : canonical(address, hop);
                }
                client = hop;
            }
        }
        return client;
    }

    private boolean trusted(byte[] address) {
        if (address == null) {
            return false;
        }
        for (Cidr cidr : trustedProxies) {
            if (cidr.contains(address)) {
                return true;
            }
        }
        return false;
    }

    /** {@code 192.0.2.1:8080} and {@code [2001:db8::1]:8080} without the port, as some proxies write them. */
    private static String withoutPort(String hop) {
        if (hop.startsWith("[")) {
            int end = hop.indexOf(']');
            return end < 0 ? hop : hop.substring(1, end);
        }
        int colon = hop.indexOf(':');
        return colon > 0 && hop.indexOf(':', colon + 1) < 0 ? hop.substring(0, colon) : hop;
    }

    /** One spelling per address, so that {@code 2001:DB8::1} and {@code 2001:db8:0::1} share a bucket. */
    private static String canonical(byte[] address, String fallback) {
        try {
            return InetAddress.getByAddress(address).getHostAddress();
        } catch (UnknownHostException e) {
            return fallback;
        }
    }
}
