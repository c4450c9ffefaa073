/** Types of scripts/build-admin-ui.mjs (the admin web UI's build). */
export declare const ADMIN_UI_DIR: string;
export declare const ADMIN_UI_DIST: string;
export declare const ASSET_URL_PREFIX: string;
export declare function bundleAdminUi(): Promise<Map<string, Buffer>>;
export declare function buildAdminUi(outDir?: string): Promise<string[]>;
