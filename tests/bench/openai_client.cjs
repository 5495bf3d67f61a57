// The real `openai` npm client against joulebench's OpenAI-compatible test
// server (tests/support/openai_server.h, started by openai_client_test.cpp):
// every call the server offers, the answers' shapes checked here, the values
// printed as one JSON object for the C++ test to compare with what the zoo
// models give for the same inputs.
// Usage: node openai_client.cjs OPENAI_PACKAGE_DIR BASE_URL GENERATOR ENCODER
'use strict';
const assert = require('node:assert/strict');

const [pkg, baseURL, generator, encoder] = process.argv.slice(2);
const { OpenAI, NotFoundError, BadRequestError } = require(pkg);

function checkUsage(usage, completionTokens) {
  assert.equal(typeof usage.prompt_tokens, 'number');
  assert.ok(usage.prompt_tokens > 0, 'prompt_tokens > 0');
  assert.equal(usage.completion_tokens, completionTokens);
  assert.equal(usage.total_tokens, usage.prompt_tokens + (completionTokens ?? 0));
}

async function main() {
  const client = new OpenAI({ apiKey: 'test-key', baseURL, maxRetries: 0, timeout: 60000 });
  const out = {};

  const models = await client.models.list();
  out.models = models.data.map((m) => m.id);
  for (const m of models.data) assert.equal(m.object, 'model');

  const c = await client.completions.create({ model: generator, prompt: 'The quick brown fox', max_tokens: 5, temperature: 0 });
  assert.equal(c.object, 'text_completion');
  assert.equal(c.model, generator);
  assert.equal(c.choices.length, 1);
  assert.equal(c.choices[0].index, 0);
  assert.equal(typeof c.choices[0].text, 'string');
  assert.equal(c.choices[0].finish_reason, 'length');
  checkUsage(c.usage, 5);
  out.completion = { text: c.choices[0].text, usage: c.usage };

  // A batch of prompts: one choice each, in order.
  const two = await client.completions.create({ model: generator, prompt: ['one', 'two more words'], max_tokens: 3 });
  assert.deepEqual(two.choices.map((ch) => ch.index), [0, 1]);
  checkUsage(two.usage, 6);
  out.batch = { texts: two.choices.map((ch) => ch.text), usage: two.usage };

  const messages = [
    { role: 'system', content: 'Answer briefly.' },
    { role: 'user', content: 'How much energy does one inference take?' },
  ];
  const chat = await client.chat.completions.create({ model: generator, messages, max_tokens: 4 });
  assert.equal(chat.object, 'chat.completion');
  assert.equal(chat.choices.length, 1);
  assert.equal(chat.choices[0].message.role, 'assistant');
  assert.equal(typeof chat.choices[0].message.content, 'string');
  checkUsage(chat.usage, 4);
  out.chat = { messages, text: chat.choices[0].message.content, usage: chat.usage };

  // Without encoding_format the client asks for base64 and decodes it.
  const e64 = await client.embeddings.create({ model: encoder, input: 'energy per inference' });
  assert.equal(e64.object, 'list');
  assert.equal(e64.data.length, 1);
  assert.equal(e64.data[0].object, 'embedding');
  checkUsage(e64.usage, undefined);
  out.embedding_base64 = Array.from(e64.data[0].embedding);
  const ef = await client.embeddings.create({ model: encoder, input: ['energy per inference', 'grams of CO2e'], encoding_format: 'float' });
  assert.deepEqual(ef.data.map((d) => d.index), [0, 1]);
  for (const d of ef.data) assert.ok(d.embedding.every((x) => typeof x === 'number'));
  out.embeddings_float = ef.data.map((d) => d.embedding);
  out.embeddings_usage = ef.usage;

  // Errors come back as OpenAI's error object, which the client raises typed.
  try {
    await client.completions.create({ model: 'no-such-model', prompt: 'x', max_tokens: 1 });
    assert.fail('expected a 404');
  } catch (err) {
    assert.ok(err instanceof NotFoundError, String(err));
    assert.equal(err.status, 404);
    assert.equal(err.code, 'model_not_found');
    out.not_found = err.message;
  }
  try {
    await client.chat.completions.create({ model: generator, messages: [], max_tokens: 1 });
    assert.fail('expected a 400');
  } catch (err) {
    assert.ok(err instanceof BadRequestError, String(err));
    out.bad_request = err.message;
  }
  process.stdout.write(JSON.stringify(out));
}

main().catch((err) => {
  console.error(err && err.stack ? err.stack : String(err));
  process.exit(1);
});
