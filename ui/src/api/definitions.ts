/** Reading definitions, with a fallback for servers that have only the list route. */
import { ApiError, type DefinitionView } from '../../../src/client/index.js';
import type { WeftClient } from './client.js';

/**
 * One definition: `GET /api/definitions/:name`, or, where that route does not exist yet (a 404
 * that is not about the definition), the entry of the full list.
 */
export async function loadDefinition(client: WeftClient, name: string): Promise<DefinitionView> {
  try {
    return (await client.definition(name)).definition;
  } catch (error) {
    if (!(error instanceof ApiError) || error.status !== 404) throw error;
    const { definitions } = await client.definitions();
    const found = definitions.find((d) => d.name === name);
    if (found) return found;
    throw new ApiError(404, 'not_found', `no definition named ${name}: no worker registered it`);
  }
}
