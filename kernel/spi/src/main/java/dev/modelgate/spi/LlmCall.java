package dev.modelgate.spi;

/**
 * What an LLM backend did for one request, for the access log: the upstream that answered, the model it was asked
 * for and the tokens its answer reported. A streamed answer's tokens are known only at its end, when the backend
 * replaces the attribute.
 *
 * @param upstream the configured name of the upstream that answered
 * @param model the model the upstream was asked for (after aliases), or {@code null} for a call about no model
 * @param promptTokens the prompt tokens the answer reported, or -1 when it reported none
 * @param completionTokens the completion tokens the answer reported, or -1 when it reported none
 */
public record LlmCall(String upstream, String model, long promptTokens, long completionTokens) {

    /** Set by the backend on the exchange it served. */
    public static final Attribute<LlmCall> ATTRIBUTE = Attribute.named("llm-call");

    /** A call whose answer has reported no tokens yet. */
    public LlmCall(String upstream, String model) {
        this(upstream, model, -1, -1);
    }

    public LlmCall withTokens(long prompt, long completion) {
        return new LlmCall(upstream, model, prompt, completion);
    }
}
