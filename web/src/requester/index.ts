// The requester's area (a chunk of its own, loaded on first use).

import "./pages.css";
export { requesterAccountPage } from "./account";
export { batchPage } from "./batch";
export { galleryPage } from "./gallery";
export { projectPage } from "./project";
export { projectFormPage, projectsPage } from "./projects";
