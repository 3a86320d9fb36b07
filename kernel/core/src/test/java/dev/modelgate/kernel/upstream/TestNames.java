package dev.modelgate.kernel.upstream;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.net.spi.InetAddressResolver;
import java.net.spi.InetAddressResolverProvider;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * The name resolver of this module's tests (found by the JDK through {@code META-INF/services}): the system's for
 * every name but two made-up domains, so that tests can have a name that takes its time or does not exist without a
 * resolver on the network. A name under {@value #SLOW} resolves to 127.0.0.1 after {@link #SLOW_MILLIS}; one under
 * {@value #UNKNOWN} does not resolve. The JDK keeps answers: give each test a name of its own.
 */
public final class TestNames extends InetAddressResolverProvider {

    static final String SLOW = ".slow.modelgate.test";
    static final String UNKNOWN = ".unknown.modelgate.test";
    static final long SLOW_MILLIS = 1500;

    @Override
    public InetAddressResolver get(Configuration configuration) {
        InetAddressResolver system = configuration.builtinResolver();
        return new InetAddressResolver() {
            @Override
            public Stream<InetAddress> lookupByName(String host, LookupPolicy policy) throws UnknownHostException {
                if (host.endsWith(UNKNOWN)) {
                    throw new UnknownHostException(host);
                }
                if (host.endsWith(SLOW)) {
                    try {
                        TimeUnit.MILLISECONDS.sleep(SLOW_MILLIS);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        throw new UnknownHostException(host + ": interrupted");
                    }
                    return Stream.of(InetAddress.getByAddress(host, new byte[] {127, 0, 0, 1}));
                }
                return system.lookupByName(host, policy);
            }

            @Override
            public String lookupByAddress(byte[] address) throws UnknownHostException {
                return system.lookupByAddress(address);
            }
        };
    }

    @Override
    public String name() {
        return "modelgate tests' names";
    }
}
