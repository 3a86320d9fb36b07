// Drives the gateway with the official `openai` npm package, as an application would: a chat completion, a
// streamed chat completion, an embedding, the model list and a refused request. Exits non-zero on the first surprise.
import OpenAI from 'openai';
import assert from 'node:assert/strict';

const client = new OpenAI({ baseURL: process.env.GATEWAY_OPENAI_URL, apiKey: 'client-token', maxRetries: 0 });
const messages = [{ role: 'user', content: 'Hi' }];

const chat = await client.chat.completions.create({ model: 'fast', messages });
assert.equal(chat.choices[0].message.content, 'Hello from primary');
assert.equal(chat.usage.total_tokens, 8);

const stream = await client.chat.completions.create({ model: 'fast', messages, stream: true });
let text = '';
for await (const chunk of stream) {
  text += chunk.choices[0]?.delta?.content ?? '';
}
assert.equal(text, 't0 t1 t2 ');

const embedding = await client.embeddings.create({ model: 'emb', input: 'x' });
assert.deepEqual(Array.from(embedding.data[0].embedding), [0.25, -0.5, 1.0]);

const ids = [];
for await (const model of client.models.list()) {
  ids.push(model.id);
}
assert.deepEqual(ids, ['llama3:8b', 'fast']);

await assert.rejects(client.chat.completions.create({ messages }), (error) => {
  assert.ok(error instanceof OpenAI.BadRequestError, String(error));
  assert.equal(error.code, '20050');
  return true;
});
console.log('sdk-check passed');
