/**
 * One diagnostic collection for the pushed and the pulled diagnostics. `ftsc lsp` sends both (push for
 * clients without pull), and vscode-languageclient's default gives each model its own collection, which
 * would list every problem twice; sharing one, the latest report for a document replaces the other.
 * Generic over the collection so that node's test runner can check it without `vscode`.
 */
export class SharedCollection<C extends { dispose(): void }> {
  private collection: C | undefined;
  private users = 0;

  constructor(private readonly make: (name: string | undefined) => C) {}

  create(name: string | undefined): C {
    this.users += 1;
    this.collection ??= this.make(name);
    return this.collection;
  }

  dispose(collection: C): void {
    if (collection !== this.collection) {
      collection.dispose();
      return;
    }
    this.users -= 1;
    if (this.users === 0) {
      collection.dispose();
      this.collection = undefined;
    }
  }
}
