export { sriOf } from '../store/add-path.js';
