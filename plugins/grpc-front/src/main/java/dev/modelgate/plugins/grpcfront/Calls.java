package dev.modelgate.plugins.grpcfront;

import com.google.protobuf.CodedOutputStream;
import dev.modelgate.spi.CoreErrors;
import dev.modelgate.spi.front.FrontContext;
import dev.modelgate.spi.front.FrontRequest;
import dev.modelgate.spi.front.Pipeline;
import java.io.IOException;
import java.io.UncheckedIOException;

/** Runs the front's calls through the kernel's pipeline. Thread-safe. */
final class Calls {

    private final Pipeline pipeline;
    private final FrontContext context;

    Calls(Pipeline pipeline, FrontContext context) {
        this.pipeline = pipeline;
        this.context = context;
    }

    Pipeline pipeline() {
        return pipeline;
    }

    Outcome run(FrontRequest request) {
        return Outcome.of(pipeline.serve(request), context);
    }

    /** A request that is no valid message of {@code type}: refused after the global middlewares, 20017. */
    Outcome malformed(CallContext call, String bodyDialect, String type, Exception problem) {
        return run(call.refused(bodyDialect, CoreErrors.MALFORMED_BODY,
                "not a valid " + type + " message: " + problem.getMessage()));
    }

    /** {@code message} as field {@code number} of an enclosing message, as Protobuf embeds one. */
    static byte[] embedded(int number, byte[] message) {
        byte[] out = new byte[CodedOutputStream.computeByteArraySize(number, message)];
        CodedOutputStream stream = CodedOutputStream.newInstance(out);
        try {
            stream.writeByteArray(number, message);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        stream.checkNoSpaceLeft();
        return out;
    }

    /** Whether a failed message ends its stream: the stream's credentials failed, which no later message passes. */
    static boolean endsStream(Outcome outcome) {
        return outcome.failed() && outcome.error().domain() == 1;
    }
}
