package com.example.georouting;

import dev.modelgate.spi.ConfigNode;
import dev.modelgate.spi.Exchange;
import dev.modelgate.spi.balancer.Balancer;
import dev.modelgate.spi.balancer.BalancerContext;
import dev.modelgate.spi.balancer.BalancerProvider;
import dev.modelgate.spi.balancer.Endpoint;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Balancer {@code geo-routing}: routes each request by the client's region and device, as the seed article's
 * custom load-balancing strategy does ("by user geography and device type").
 *
 * <ul>
 *   <li>The region is the request header {@code geo-region-header} [{@code X-Region}]; an instance serves it when its
 *       {@code locality} is that region or lies in it ({@code eu} serves {@code eu}, {@code eu-west-1},
 *       {@code eu/fra}).
 *   <li>The device is the request header {@code geo-device-header} [{@code X-Device}], else {@code mobile} for a
 *       {@code User-Agent} that says "Mobi" (as browsers' mobile agents do) and {@code desktop} for any other; an
 *       instance serves it when its {@code labels} have {@code device} equal to it.
 * </ul>
 *
 * Among the candidates the gateway offers (healthy, of the request's priority level), the request goes to those of
 * its region and device, else of its region, else of its device, else to any; round robin within them. So an
 * outage of a region's instances falls back to the others instead of failing.
 */
public final class GeoRoutingProvider implements BalancerProvider {

    @Override
    public String type() {
        return "geo-routing"; // configured as `balancer: geo-routing`
    }

    @Override
    public Balancer create(ConfigNode config, BalancerContext context) {
        // The balancer's keys sit next to `balancer` in the backend, prefixed so as not to clash with the backend's.
        String regionHeader = config.string("geo-region-header", "X-Region");
        String deviceHeader = config.string("geo-device-header", "X-Device");
        if (context.endpoints().stream().allMatch(endpoint -> endpoint.locality().isEmpty())) {
            config.problem("balancer", "geo-routing needs instances with a locality (their region)");
        }
        return new GeoRouting(regionHeader, deviceHeader);
    }

    /** Immutable but for its round-robin counter; thread-safe and lock-free. */
    private static final class GeoRouting implements Balancer {

        private final String regionHeader;
        private final String deviceHeader;
        private final AtomicInteger next = new AtomicInteger();

        GeoRouting(String regionHeader, String deviceHeader) {
            this.regionHeader = regionHeader;
            this.deviceHeader = deviceHeader;
        }

        @Override
        public <E extends Endpoint> E pick(List<E> candidates, Exchange exchange) {
            String region = normalized(exchange.requestHeaders().first(regionHeader));
            String device = device(exchange);
            List<E> inRegion = new ArrayList<>();
            List<E> ofDevice = new ArrayList<>();
            List<E> both = new ArrayList<>();
            for (E candidate : candidates) {
                boolean regionMatches = region != null && serves(candidate.locality(), region);
                boolean deviceMatches = device.equals(candidate.labels().get("device"));
                if (regionMatches) {
                    inRegion.add(candidate);
                }
                if (deviceMatches) {
                    ofDevice.add(candidate);
                }
                if (regionMatches && deviceMatches) {
                    both.add(candidate);
                }
            }
            List<E> chosen = !both.isEmpty() ? both : !inRegion.isEmpty() ? inRegion
                    : !ofDevice.isEmpty() ? ofDevice : candidates;
            return chosen.get(Math.floorMod(next.getAndIncrement(), chosen.size()));
        }

        private String device(Exchange exchange) {
            String device = normalized(exchange.requestHeaders().first(deviceHeader));
            if (device != null) {
                return device;
            }
            String agent = exchange.requestHeaders().first("User-Agent");
            return agent != null && agent.contains("Mobi") ? "mobile" : "desktop";
        }

        private static String normalized(String header) {
            return header == null || header.isBlank() ? null : header.strip().toLowerCase(Locale.ROOT);
        }

        /** Whether {@code locality} is {@code region} or lies in it: {@code eu-west-1} and {@code eu/fra} in eu. */
        private static boolean serves(String locality, String region) {
            String lower = locality.toLowerCase(Locale.ROOT);
            return lower.equals(region) || lower.startsWith(region + "-") || lower.startsWith(region + "/");
        }
    }
}
