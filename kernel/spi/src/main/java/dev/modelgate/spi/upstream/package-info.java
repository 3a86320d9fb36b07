/**
 * HTTP/1.1 calls to upstream servers on the gateway's own IO threads: the client a proxy backend forwards with when
 * it {@linkplain dev.modelgate.spi.ProxyBackend#forwardsAsync forwards without blocking}. A call made on an IO thread
 * stays on it (its connection, its timer, its answer), so a request is read, forwarded, answered and written by one
 * thread with no hand-off, as nginx does; a call made elsewhere runs on one of the IO threads and its caller waits on
 * the returned stage.
 */
package dev.modelgate.spi.upstream;
