/** Types of scripts/import-layers.mjs (Gyre's import rules over src/). */
export declare const LAYERS: readonly (readonly string[])[];
export declare function importGraph(srcDir: string): Map<string, string[]>;
export declare function layerOf(module: string): number;
export declare function layerViolations(graph: Map<string, string[]>): string[];
export declare function importCycles(graph: Map<string, string[]>): string[][];
