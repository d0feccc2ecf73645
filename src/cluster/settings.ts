/** How this instance joins its peers through the shared database (parsed by src/config.ts). */
export interface ClusterSettings {
  /** A secret: it may hold the database password. */
  databaseUrl: string;
  /** This instance's name among its peers: TOODLES_INSTANCE, else the host name. */
  instance: string;
  /** The instance that answers alone while the database cannot be reached (TOODLES_PREFERRED_INSTANCE). */
  preferredInstance: string;
}
