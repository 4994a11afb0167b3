-- Temporal keeps its own databases beside Keyship's, on the same server.
CREATE DATABASE temporal;
CREATE DATABASE temporal_visibility;
