import { FilePointer, type ModelPointer } from './pointer.ts';
import { VersionStore } from './versions.ts';

/** The pointer of a configuration: in PostgreSQL when the store is, else active.json in the models directory. */
export async function pointerFor(config: {
  modelsDir: string;
  store: { url?: string | undefined };
}): Promise<ModelPointer> {
  const versions = new VersionStore(config.modelsDir);
  const url = config.store.url;
  if (url && /^postgres(ql)?:\/\//.test(url)) {
    const { PgPointer } = await import('./pg-pointer.ts');
    return new PgPointer(url, versions);
  }
  return new FilePointer(versions);
}
