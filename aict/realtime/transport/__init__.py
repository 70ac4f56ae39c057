"""Every patch aict makes to its Socket.IO / Engine.IO / WebSocket libraries, in one package."""
