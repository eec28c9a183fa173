/**
 * The secrets of a vault as a folder tree (paths split at `/`), filtered by a search text that
 * matches anywhere in the path, case-insensitively. Folders come first, then secrets, each sorted
 * by name.
 */
export interface TreeFolder<T> {
  kind: 'folder';
  name: string;
  path: string;
  children: TreeNode<T>[];
}

export interface TreeLeaf<T> {
  kind: 'secret';
  name: string;
  path: string;
  item: T;
}

export type TreeNode<T> = TreeFolder<T> | TreeLeaf<T>;

export function buildPathTree<T extends { path: string }>(items: readonly T[], search = ''): TreeNode<T>[] {
  const needle = search.trim().toLowerCase();
  const root: TreeFolder<T> = { kind: 'folder', name: '', path: '', children: [] };
  for (const item of items) {
    if (needle !== '' && !item.path.toLowerCase().includes(needle)) continue;
    const segments = item.path.split('/');
    let folder = root;
    segments.slice(0, -1).forEach((segment, index) => {
      const path = segments.slice(0, index + 1).join('/');
      let next = folder.children.find(
        (child): child is TreeFolder<T> => child.kind === 'folder' && child.name === segment,
      );
      if (!next) {
        next = { kind: 'folder', name: segment, path, children: [] };
        folder.children.push(next);
      }
      folder = next;
    });
    folder.children.push({ kind: 'secret', name: segments.at(-1)!, path: item.path, item });
  }
  sortTree(root);
  return root.children;
}

function sortTree<T>(folder: TreeFolder<T>): void {
  folder.children.sort((a, b) =>
    a.kind === b.kind ? a.name.localeCompare(b.name) : a.kind === 'folder' ? -1 : 1,
  );
  for (const child of folder.children) if (child.kind === 'folder') sortTree(child);
}
